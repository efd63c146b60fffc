/**
 * Phase 1, latency at batch 1, measured side by side: for each round, one
 * local request (prefer `local` on the in-process node A), one remote request
 * (prefer `remote`, A to the serving process B, over `/edge-mesh/infer/1.1.0`)
 * and one size-matched echo on an already open stream (A to the echo process),
 * in a rotating order so that no kind always runs first. Timed around
 * `offload.infer()` and the echo exchanges inside A: no HTTP.
 *
 * `echoOpen` sends a frame the size of the 1.1.0 request and gets back one the
 * size of the 1.1.0 result, on a stream opened once: the floor a long-lived
 * request stream can reach (issue #12's baseline). The rounds are split into
 * `LATENCY_RUNS` runs; each run gives (remote - local) / echoOpen at the p50,
 * and the goal is judged on their median.
 *
 * `echo`, the 1.0.0-shaped baseline, opens one stream per exchange, writes one
 * length-prefixed frame, half-closes, reads one frame: what a 1.0.0 infer
 * does, minus the model and the codec. It runs in its own block after the
 * rounds, not between them: a new stream costs A 1.2-1.9 ms of CPU, more than
 * the exchange's own wall time, so its teardown (stream close, peer-store
 * update) spills into whatever A measures next. Interleaved, it raised the
 * local p50 by 0.1-0.2 ms and the remote p50 by up to 0.5 ms (docs/benchmarks.md).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import * as lp from 'it-length-prefixed'
import { FrameReader, sendWithBackpressure, writeFrame } from '../../src/wire/framing.js'
import { encodeRequest } from '../../src/offload/codec.js'
import { encodePipeRequest, encodePipeResult, toWireInputs } from '../../src/offload/pipe-codec.js'
import { DEADLINE_MS, ECHO_PROTOCOL, LATENCY_ECHO_NEW_STREAM, LATENCY_ROUNDS, LATENCY_RUNS, LATENCY_WARMUP, MODEL_DIR, MODEL_ID, SIZED_ECHO_PROTOCOL } from './constants.js'
import { benchInput, startInProcessNode, waitForPeers } from './driver.js'
import { median, round2, summary } from './stats.js'
import type { InProcessNode } from './driver.js'
import type { Processes } from './processes.js'
import type { TensorData } from '../../src/model/types.js'
import type { Libp2p, PeerId } from '@libp2p/interface'

export interface LatencyResult {
  local: { p50: number, p99: number, n: number, computeP50: number }
  remote: { p50: number, p99: number, n: number, computeP50: number }
  echo: { p50: number, p99: number, n: number, payloadBytes: number }
  /** Size-matched echo on an open stream (request size out, reply size back). */
  echoOpen: { p50: number, p99: number, n: number, requestBytes: number, replyBytes: number }
  /** remote p50 minus local p50, ms. */
  remoteOverheadP50: number
  /** Per run: remote p50 - local p50 and the open-stream echo's p50, ms, and their ratio. */
  runs: Array<{ remoteOverheadP50: number, echoOpenP50: number, ratio: number }>
  /** Median over runs of (remote p50 - local p50) / echoOpen p50 (goal <= 1.5). */
  overheadVsEchoOpen: number
}

type Kind = 'local' | 'remote' | 'echo' | 'echoOpen'

/** The open-stream echo: one stream, one frame out and one back per exchange. */
interface OpenEcho {
  exchange(): Promise<number>
  close(): Promise<void>
}

async function openEcho (libp2p: Libp2p, peer: PeerId, requestBytes: number, replyBytes: number): Promise<OpenEcho> {
  const stream = await libp2p.dialProtocol(peer, SIZED_ECHO_PROTOCOL, { signal: AbortSignal.timeout(DEADLINE_MS) })
  const reader = new FrameReader(stream)
  const payload = new Uint8Array(requestBytes)
  new DataView(payload.buffer).setUint32(0, replyBytes)
  return {
    exchange: async () => {
      const startedAt = performance.now()
      // One send() of the prefixed frame, as the 1.1.0 writer does: the floor, not a slower writer.
      await sendWithBackpressure(stream, lp.encode.single(payload))
      const reply = await reader.expect('the sized echo')
      if (reply.byteLength !== replyBytes) throw new Error('sized echo returned another size')
      return performance.now() - startedAt
    },
    close: async () => { await stream.close() }
  }
}

/** Sizes of the 1.1.0 request for `input` and of its result (a [1, 10] float32 output). */
function pipeSizes (input: TensorData): { requestBytes: number, replyBytes: number } {
  const request = encodePipeRequest(MODEL_ID, [{ id: 1, rows: 1, deadlineMs: DEADLINE_MS }], [toWireInputs([input], true)])
  const reply = encodePipeResult(1, { outputs: [{ dtype: 'float32', shape: [1, 10], data: new Float32Array(10) }], queueMs: 0, computeMs: 0, batchSize: 1 }, { outstanding: 0, capacity: 0 })
  return { requestBytes: request.byteLength, replyBytes: reply.byteLength }
}

/** One echo exchange on a new stream; resolves with its round-trip time, ms. */
async function echoOnce (libp2p: Libp2p, peer: PeerId, payload: Uint8Array): Promise<number> {
  const startedAt = performance.now()
  const signal = AbortSignal.timeout(DEADLINE_MS)
  const stream = await libp2p.dialProtocol(peer, ECHO_PROTOCOL, { signal })
  await writeFrame(stream, payload, { signal })
  await stream.close({ signal })
  const reply = await new FrameReader(stream).expect('the echo')
  if (reply.byteLength !== payload.byteLength) throw new Error('echo returned another size')
  return performance.now() - startedAt
}

/** One inference through A's offload service; resolves with its latency and the server's compute time, ms. */
async function inferOnce (node: InProcessNode, input: TensorData, prefer: 'local' | 'remote', expectServedBy: string): Promise<{ ms: number, computeMs: number }> {
  const startedAt = performance.now()
  const result = await node.offload.infer(MODEL_ID, [input], { prefer, deadlineMs: DEADLINE_MS })
  const ms = performance.now() - startedAt
  if (result.servedBy !== expectServedBy) throw new Error(`${prefer} request served by ${result.servedBy}, expected ${expectServedBy}: ${JSON.stringify(result.attemptLog)}`)
  return { ms, computeMs: result.latencyMs.computeMs }
}

/** A payload of the same size as the encoded [1, 784] float32 request. */
function echoPayload (input: TensorData): Uint8Array {
  const frame = encodeRequest({ requestId: 1n, deadlineMs: DEADLINE_MS, modelId: MODEL_ID, inputs: [input] })
  return frame.subarray()
}

/** Split the samples (in round order) into `LATENCY_RUNS` runs and compare each run's p50s. */
function perRun (samples: Record<Kind, number[]>): LatencyResult['runs'] {
  const per = Math.floor(samples.local.length / LATENCY_RUNS)
  return Array.from({ length: LATENCY_RUNS }, (_, r) => {
    const part = (kind: Kind): number => summary(samples[kind].slice(r * per, (r + 1) * per)).p50
    const overhead = part('remote') - part('local')
    const echoOpenP50 = part('echoOpen')
    return { remoteOverheadP50: round2(overhead), echoOpenP50, ratio: round2(overhead / echoOpenP50) }
  })
}

export async function measureLatency (processes: Processes, progress: (line: string) => void): Promise<LatencyResult> {
  const input = await benchInput()
  const payload = echoPayload(input)
  const b = await processes.serving('latency-b', { capacity: 2 })
  const echo = await processes.echo()
  const a = await startInProcessNode({ models: [MODEL_DIR], hedging: false, peers: [b.address, echo.address] })
  try {
    await waitForPeers(a, [b.node.peerId])
    const echoPeer = peerIdFromString(multiaddr(echo.address).getComponents().find(c => c.name === 'p2p')?.value ?? '')
    const sizes = pipeSizes(input)
    const open = await openEcho(a.libp2p, echoPeer, sizes.requestBytes, sizes.replyBytes)
    const samples: Record<Kind, number[]> = { local: [], remote: [], echo: [], echoOpen: [] }
    const compute: Record<'local' | 'remote', number[]> = { local: [], remote: [] }
    const run = async (kind: Kind, keep: boolean): Promise<void> => {
      if (kind === 'echo' || kind === 'echoOpen') {
        const ms = kind === 'echo' ? await echoOnce(a.libp2p, echoPeer, payload) : await open.exchange()
        if (keep) samples[kind].push(ms)
        return
      }
      const { ms, computeMs } = await inferOnce(a, input, kind, kind === 'local' ? a.peerId : b.node.peerId)
      if (keep) { samples[kind].push(ms); compute[kind].push(computeMs) }
    }
    // Every order of the three kinds, in turn: each kind follows each other kind equally often.
    const orders: Kind[][] = [['local', 'remote', 'echoOpen'], ['remote', 'echoOpen', 'local'], ['echoOpen', 'local', 'remote'], ['local', 'echoOpen', 'remote'], ['echoOpen', 'remote', 'local'], ['remote', 'local', 'echoOpen']]
    progress(`latency: warm-up, ${LATENCY_WARMUP} requests of each kind`)
    for (let i = 0; i < LATENCY_WARMUP; i++) for (const kind of orders[i % orders.length]) await run(kind, false)
    progress(`latency: ${LATENCY_ROUNDS} interleaved rounds of local, remote and open-stream echo`)
    for (let i = 0; i < LATENCY_ROUNDS; i++) {
      for (const kind of orders[i % orders.length]) await run(kind, true)
      if ((i + 1) % 500 === 0) progress(`latency: ${i + 1}/${LATENCY_ROUNDS} rounds`)
    }
    await open.close()
    progress(`latency: ${LATENCY_ECHO_NEW_STREAM} new-stream echoes, in their own block`)
    for (let i = 0; i < LATENCY_WARMUP; i++) await run('echo', false)
    for (let i = 0; i < LATENCY_ECHO_NEW_STREAM; i++) await run('echo', true)
    const local = summary(samples.local)
    const remote = summary(samples.remote)
    const runs = perRun(samples)
    return {
      local: { ...local, computeP50: summary(compute.local).p50 },
      remote: { ...remote, computeP50: summary(compute.remote).p50 },
      echo: { ...summary(samples.echo), payloadBytes: payload.byteLength },
      echoOpen: { ...summary(samples.echoOpen), ...sizes },
      remoteOverheadP50: round2(remote.p50 - local.p50),
      runs,
      overheadVsEchoOpen: round2(median(runs.map(r => r.ratio)))
    }
  } finally {
    await a.stop()
    await processes.stopAll()
  }
}
