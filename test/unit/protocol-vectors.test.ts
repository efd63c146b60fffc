/**
 * The test vectors of docs/protocols.md, made by the real encoders. Each
 * vector in the spec is a fenced block after a `<!-- vector: <name> -->`
 * comment; this test fails when a block differs from what the code produces,
 * so spec and code cannot drift. After an intended wire change, regenerate the
 * blocks with:
 *
 *   UPDATE_PROTOCOL_VECTORS=1 npx vitest run --project unit test/unit/protocol-vectors.test.ts
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { PeerBusyError } from '../../src/errors.js'
import { encodeWeightRecordToBytes } from '../../src/federated/weights/codec.js'
import { decodeWeightRecord } from '../../src/federated/weights/codec-decoder.js'
import { maskedRecord, maskedVector } from '../../src/federated/privacy/secagg/vector.js'
import { decodeMessage, encodeMessage } from '../../src/federated/mesh/protocol/messages.js'
import { decodeLoadReport, encodeLoadReport } from '../../src/gossip/codec.js'
import { decodeCompressed, encodeCompressed } from '../../src/federated/privacy/compression-codec.js'
import { uplinkFromAnnounce } from '../../src/federated/privacy/uplink-wire.js'
import type { AnnounceMessage, PushMessage } from '../../src/federated/mesh/protocol/messages.js'
import { canonicaliseArtifacts, contentId } from '../../src/model/canonical.js'
import { decodeRequest, decodeResponse, encodeError, encodeRequest, encodeResult } from '../../src/offload/codec.js'
import { decodeProbeAnswer, encodeProbeAnswer } from '../../src/offload/load-probe.js'
import {
  decodePipeInbound, decodePipeResponse, encodePipeCancel, encodePipeError, encodePipeRequest, encodePipeResult, toWireInputs
} from '../../src/offload/pipe-codec.js'
import { decodeList, decodeModelHeader, encodeFoundHeader, encodeList } from '../../src/model-transfer/wire.js'
import type { LoadReport } from '../../src/gossip/types.js'
import type { FedMessage } from '../../src/federated/mesh/protocol/messages.js'

const SPEC = 'docs/protocols.md'

/** Bytes as the spec writes them: upper-case hex, 16 bytes a line. */
function hexLines (bytes: Uint8Array): string {
  const lines: string[] = []
  for (let i = 0; i < bytes.length; i += 16) {
    lines.push(Array.from(bytes.subarray(i, i + 16), b => b.toString(16).padStart(2, '0').toUpperCase()).join(' '))
  }
  return lines.join('\n')
}

const f32 = (...values: number[]): Float32Array => Float32Array.from(values)

/** A one-layer model (2 inputs, 1 unit): its canonical model.json and weights.bin. */
const MODEL_JSON = '{"format":"layers-model","modelTopology":{"class_name":"Sequential","config":{"layers":[{"class_name":"Dense","config":{"batch_input_shape":[null,2],"name":"dense_1","units":1,"use_bias":true}}],"name":"vector"}},"weightsManifest":[{"paths":["weights.bin"],"weights":[{"dtype":"float32","name":"dense_1/kernel","shape":[2,1]},{"dtype":"float32","name":"dense_1/bias","shape":[1]}]}]}'
const WEIGHTS = new Uint8Array(f32(0.5, -1, 0.25).buffer)
const MODEL_ID = contentId({ modelJson: new TextEncoder().encode(MODEL_JSON), weights: WEIGHTS })

const REQUEST_ID = 0x0102030405060708n

/** Two coalesced 1.1.0 requests, each one [1, 4] int32 row of pixel values (sent as uint8). */
const PIPE_ROWS = [Int32Array.from([1, 2, 3, 4]), Int32Array.from([250, 251, 252, 253])]
const PIPE_LOAD = { outstanding: 3, capacity: 4 }
function pipeRequest (): Uint8Array {
  const wire = PIPE_ROWS.map(data => toWireInputs([{ shape: [1, 4], dtype: 'int32', data }], true))
  return encodePipeRequest(MODEL_ID, [{ id: 1, rows: 1, deadlineMs: 2000 }, { id: 2, rows: 1, deadlineMs: 1500 }], wire).subarray()
}

const LOAD_REPORT: LoadReport = {
  seq: 1_764_500_000_000, timestamp: 1_764_500_000_123, cpu: 0.25, memFree: 2 ** 32, inFlight: 1, queued: 2, capacity: 4,
  backend: 'wasm', models: [MODEL_ID], training: false, canTrain: true, role: 'edge', name: 'laptop', addrs: ['/ip4/192.168.1.10/tcp/4010']
}

/** A compressed PUSH (privacy-wire): round 3 of a top-k run, client 0, 244 bytes of compressed update follow. */
const PUSH_COMPRESSED: PushMessage = {
  type: 'push', runId: 'run-d636565ce590b41cbd1c-mx37yj7b-aef212', round: 3, attempt: 1, version: 2, clientIndex: 0,
  numExamples: 80, loss: 0.5, accuracy: 0.875, trainMs: 120, weightBytes: 244, encoding: 'compressed'
}

/** The uplink fields of an ANNOUNCE of a top-k run with local DP (the rest of the header as in the table). */
const ANNOUNCE_UPLINK: Partial<AnnounceMessage> = { compression: 'topk', topkDensity: 0.01, topkMomentum: 0.9, localDpClipNorm: 1, localDpNoise: 0.5 }

/** The same report as a version 3 node sends it: offload counters, 3 connections, 2 of them listed (Ed25519 keys from the seeds 0x01…, 0x02…). */
const LOAD_REPORT_V3: LoadReport = {
  ...LOAD_REPORT,
  traffic: { servedLocally: 288, servedRemotely: 41, servedForPeers: 7 },
  connections: 3,
  neighbours: ['12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5', '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq']
}

/** A version 2 report: version 3 without its trailer (15 bytes for a report with no neighbours), version byte 2. */
function asVersion2 (v3: Uint8Array): Uint8Array {
  const v2 = v3.slice(0, v3.length - 15)
  v2[0] = 2
  return v2
}

/** Secure aggregation: a stage-0 reply (keys 0x00..0x1F and 0x20..0x3F) and a stage-3 request. */
const SECAGG_KEYS: FedMessage = { type: 'secagg-keys', numExamples: 200, cPk: Uint8Array.from({ length: 32 }, (_, i) => i), sPk: Uint8Array.from({ length: 32 }, (_, i) => 32 + i) }
/** Four 12-bit values of a masked vector packed in the ring of 10 clients. */
const PACKED_VALUES = Uint32Array.from([1, 0xABC, 0xFFF, 5])
const SECAGG_UNMASK: FedMessage = { type: 'secagg-unmask', runId: 'r1', round: 1, attempt: 1, clientIndex: 0, survivors: [1, 2, 3], dropped: [4] }

/** Every vector: the block the spec must hold. */
const VECTORS: Record<string, () => string> = {
  'content-id-model-json': () => MODEL_JSON,
  'content-id-weights': () => hexLines(WEIGHTS),
  'content-id': () => MODEL_ID,
  'infer-request': () => hexLines(encodeRequest({ requestId: REQUEST_ID, deadlineMs: 2000, modelId: MODEL_ID, inputs: [{ shape: [1, 2], dtype: 'float32', data: f32(1, -2.5) }] }).subarray()),
  'infer-result': () => hexLines(encodeResult(REQUEST_ID, { outputs: [{ shape: [1, 1], dtype: 'float32', data: f32(3.25) }], queueMs: 0.15, computeMs: 0.42, batchSize: 1 }).subarray()),
  'infer-error': () => hexLines(encodeError(REQUEST_ID, new PeerBusyError('queue full'))),
  'infer-pipe-request': () => hexLines(pipeRequest()),
  'infer-pipe-result': () => hexLines(encodePipeResult(2, { outputs: [{ shape: [1, 1], dtype: 'float32', data: f32(3.25) }], queueMs: 0.15, computeMs: 0.42, batchSize: 2 }, PIPE_LOAD).subarray()),
  'infer-pipe-error': () => hexLines(encodePipeError(1, new PeerBusyError('queue full'), PIPE_LOAD)),
  'infer-pipe-cancel': () => hexLines(encodePipeCancel(1)),
  'load-report-v2': () => hexLines(asVersion2(encodeLoadReport(LOAD_REPORT))),
  'load-report': () => hexLines(encodeLoadReport(LOAD_REPORT_V3)),
  'weight-record': () => hexLines(encodeWeightRecordToBytes([
    { name: 'dense_1/kernel', shape: [2, 1], dtype: 'float32', data: f32(0.5, -1) },
    { name: 'dense_1/bias', shape: [1], dtype: 'float32', data: f32(0.25) }
  ])),
  'fedavg-hello': () => hexLines(encodeMessage({ type: 'hello' })),
  'compressed-int8': () => hexLines(encodeCompressed({ scheme: 'int8', layers: [{ scale: 0.5, values: Int8Array.from([127, -64, 0, 1]) }, { scale: 0.25, values: Int8Array.from([-127]) }] })),
  'compressed-topk': () => hexLines(encodeCompressed({ scheme: 'topk', layers: [{ length: 6, indices: Uint32Array.from([1, 4]), values: f32(0.5, -2) }] })),
  'fedavg-push-compressed': () => hexLines(encodeMessage(PUSH_COMPRESSED)),
  'load-probe-answer': () => hexLines(encodeProbeAnswer({ outstanding: 3, capacity: 2 })),
  'fedavg-secagg-keys': () => hexLines(encodeMessage(SECAGG_KEYS)),
  'fedavg-secagg-unmask': () => hexLines(encodeMessage(SECAGG_UNMASK)),
  'fedavg-secagg-masked-packed': () => hexLines(encodeWeightRecordToBytes(maskedRecord(PACKED_VALUES, 12))),
  'model-found-named': () => hexLines(encodeFoundHeader(123, 12, 'vector')),
  'model-list': () => hexLines(encodeList([{ id: MODEL_ID, name: 'vector' }]))
}

const BLOCK = /<!-- vector: ([a-z0-9-]+) -->\n```text\n([^`]*?)\n```/g

function specVectors (text: string): Map<string, string> {
  return new Map([...text.matchAll(BLOCK)].map(m => [m[1], m[2]]))
}

function bytesOf (block: string): Uint8Array {
  return Uint8Array.from(block.split(/\s+/).filter(Boolean).map(h => parseInt(h, 16)))
}

if (process.env.UPDATE_PROTOCOL_VECTORS === '1') {
  const text = readFileSync(SPEC, 'utf8')
  writeFileSync(SPEC, text.replace(BLOCK, (_all, name: string) => `<!-- vector: ${name} -->\n\`\`\`text\n${VECTORS[name]?.() ?? `unknown vector ${name}`}\n\`\`\``))
}

describe('docs/protocols.md test vectors', () => {
  const inSpec = specVectors(readFileSync(SPEC, 'utf8'))

  it('holds every vector, and only known ones', () => {
    expect([...inSpec.keys()].sort()).toEqual(Object.keys(VECTORS).sort())
  })

  for (const [name, make] of Object.entries(VECTORS)) {
    it(`${name} is what the encoder writes`, () => {
      expect(inSpec.get(name)).toBe(make())
    })
  }

  it('decodes back to the values it was made from', () => {
    const request = decodeRequest(bytesOf(inSpec.get('infer-request') ?? ''))
    expect(request).toMatchObject({ requestId: REQUEST_ID, deadlineMs: 2000, modelId: MODEL_ID })
    expect(Array.from(request.inputs[0].data)).toEqual([1, -2.5])
    expect(decodeResponse(bytesOf(inSpec.get('infer-result') ?? ''))).toMatchObject({ type: 'result', requestId: REQUEST_ID, queueMs: 0.15, computeMs: 0.42, batchSize: 1 })
    expect(decodeResponse(bytesOf(inSpec.get('infer-error') ?? ''))).toMatchObject({ type: 'error', requestId: REQUEST_ID, code: 7, message: 'queue full' })
    const pipe = decodePipeInbound(bytesOf(inSpec.get('infer-pipe-request') ?? ''))
    expect(pipe).toMatchObject({ modelId: MODEL_ID, entries: [{ id: 1, rows: 1, deadlineMs: 2000 }, { id: 2, rows: 1, deadlineMs: 1500 }] })
    expect('inputs' in pipe && Array.from(pipe.inputs[0].data)).toEqual([...PIPE_ROWS[0], ...PIPE_ROWS[1]])
    expect(decodePipeResponse(bytesOf(inSpec.get('infer-pipe-result') ?? ''))).toMatchObject({ type: 'result', id: 2, queueMs: 0.15, computeMs: 0.42, batchSize: 2, load: PIPE_LOAD })
    expect(decodePipeResponse(bytesOf(inSpec.get('infer-pipe-error') ?? ''))).toMatchObject({ type: 'error', id: 1, code: 7, message: 'queue full', load: PIPE_LOAD })
    expect(decodePipeInbound(bytesOf(inSpec.get('infer-pipe-cancel') ?? ''))).toEqual({ cancel: 1 })
    expect(decodeLoadReport(bytesOf(inSpec.get('load-report-v2') ?? ''))).toEqual(LOAD_REPORT)
    expect(decodeLoadReport(bytesOf(inSpec.get('load-report') ?? ''))).toEqual(LOAD_REPORT_V3)
    expect(decodeMessage(bytesOf(inSpec.get('fedavg-hello') ?? ''))).toEqual({ type: 'hello' })
    const int8 = decodeCompressed(bytesOf(inSpec.get('compressed-int8') ?? ''), [4, 1])
    ;[0.5, -64 * 0.5 / 127, 0, 0.5 / 127].forEach((v, i) => { expect(int8[0][i]).toBeCloseTo(v, 7) })
    expect(Array.from(int8[1])).toEqual([-0.25])
    expect(Array.from(decodeCompressed(bytesOf(inSpec.get('compressed-topk') ?? ''), [6])[0])).toEqual([0, 0.5, 0, 0, -2, 0])
    expect(decodeMessage(bytesOf(inSpec.get('fedavg-push-compressed') ?? ''))).toEqual(PUSH_COMPRESSED)
    expect(uplinkFromAnnounce({ ...ANNOUNCE_UPLINK, round: 1 })).toEqual({ compression: { scheme: 'topk', density: 0.01, momentum: 0.9, clipNorm: 0, staleness: 0, round: 1 }, localDp: { clipNorm: 1, noiseMultiplier: 0.5 } })
    expect(decodeProbeAnswer(bytesOf(inSpec.get('load-probe-answer') ?? ''))).toEqual({ outstanding: 3, capacity: 2 })
    expect(decodeMessage(bytesOf(inSpec.get('fedavg-secagg-keys') ?? ''))).toEqual(SECAGG_KEYS)
    expect(decodeMessage(bytesOf(inSpec.get('fedavg-secagg-unmask') ?? ''))).toEqual(SECAGG_UNMASK)
    expect(Array.from(maskedVector(decodeWeightRecord(bytesOf(inSpec.get('fedavg-secagg-masked-packed') ?? '')), 4, 12))).toEqual(Array.from(PACKED_VALUES))
    expect(decodeModelHeader(bytesOf(inSpec.get('model-found-named') ?? ''))).toEqual({ type: 'found', modelJsonBytes: 123, weightsBytes: 12, name: 'vector' })
    expect(decodeList(bytesOf(inSpec.get('model-list') ?? ''))).toEqual([{ id: MODEL_ID, name: 'vector' }])
  })

  it('the content-id model is canonical: canonicalising it changes nothing', () => {
    const canonical = canonicaliseArtifacts({ modelJson: new TextEncoder().encode(MODEL_JSON), weights: WEIGHTS })
    expect(new TextDecoder().decode(canonical.artifacts.modelJson)).toBe(MODEL_JSON)
    expect(canonical.id).toBe(MODEL_ID)
  })
})
