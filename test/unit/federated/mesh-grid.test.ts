/**
 * The mesh grid and the participant over in-memory stream pairs: the real
 * fedavg wire (ANNOUNCE, PULL, PUSH), a fake runtime that trains by arithmetic.
 */
import { streamPair } from '@libp2p/utils'
import { describe, expect, it } from 'vitest'
import { createMeshGrid } from '../../../src/federated/mesh/mesh-grid.js'
import { Participant } from '../../../src/federated/mesh/participant.js'
import { encodedWeightRecordSize } from '../../../src/federated/weights/codec.js'
import { serveStream } from '../../../src/federated/mesh/protocol/handler.js'
import { exchange } from '../../../src/federated/mesh/protocol/wire.js'
import { createStrategy } from '../../../src/federated/strategies/create-strategy.js'
import { MemoryCheckpointStore } from '../../../src/federated/checkpoint.js'
import { runFederated } from '../../../src/federated/run.js'
import { UplinkPolicy as Uplink } from '../../../src/federated/privacy/uplink-wire.js'
import { parseCompression } from '../../../src/federated/privacy/compression.js'
import { randomPeerId } from '../offload/protocol-fixtures.js'
import { constant, fakeRuntime } from './helpers.js'
import type { Dispatch } from '../../../src/federated/mesh/protocol/handler.js'
import type { PushMessage } from '../../../src/federated/mesh/protocol/messages.js'
import type { UplinkPolicy } from '../../../src/federated/privacy/uplink-wire.js'
import type { MeshGrid } from '../../../src/federated/mesh/mesh-grid.js'
import type { Dataset } from '../../../src/model/types.js'
import type { PeerLoad } from '../../../src/gossip/types.js'

const log = Object.assign(() => {}, { enabled: false, trace: () => {}, error: () => {}, newScope: () => log }) as any

function dataset (value: number, count = 4): Dataset {
  return { x: new Float32Array(count * 2).fill(value), y: new Int32Array(count), featureShape: [2], numClasses: 2, count }
}

function peerLoad (peerId: string): PeerLoad {
  return { peerId, receivedAt: 0, report: { seq: 1, timestamp: 0, cpu: 0, memFree: 0, inFlight: 0, queued: 0, capacity: 2, backend: 'cpu', models: [], training: false, canTrain: true, role: 'edge', name: 'p', addrs: [] } }
}

/** A coordinator and participants wired by stream pairs: each peer id is served by its own dispatch. */
async function mesh (clientsPerPeer: Dataset[][], attack?: string, uplink?: UplinkPolicy) {
  const coordinatorId = await randomPeerId()
  const peerIds = await Promise.all(clientsPerPeer.map(async () => randomPeerId()))
  const dispatchers = new Map<string, Dispatch>()
  const openerFor = (from: string) => ({
    async openStream (peer: { toString(): string }) {
      const [out, inbound] = await streamPair({ capacity: 4 })
      const dispatch = dispatchers.get(peer.toString())
      if (dispatch === undefined) throw new Error('dial failed')
      void serveStream(inbound, from, dispatch, {
        timeoutMs: 10_000, log, onReplied: (req, bytes) => { if (req.type === 'pull') grid.recordPull(from, bytes) },
        checkPayload: (m) => { if (m.type === 'push') grid.checkPush(m) }
      })
      return out
    }
  }) as any
  const runtime = fakeRuntime()
  const participants = clientsPerPeer.map((clients, i) => new Participant({
    clients,
    runtime,
    localLoad: { update: () => {} },
    ensureModel: async () => {},
    pull: async (c, runId, version, o) => (await exchange(openerFor(peerIds[i]), c, { type: 'pull', runId, version }, undefined, 'weights', { timeoutMs: 5000, signal: o.signal })).record!,
    push: async (c, header, update, o) => {
      const message: PushMessage = update.kind === 'compressed'
        ? { type: 'push', ...header, weightBytes: update.bytes.byteLength, encoding: 'compressed' }
        : { type: 'push', ...header, weightBytes: encodedWeightRecordSize(update.weights) }
      await exchange(openerFor(peerIds[i]), c, message, update.kind === 'compressed' ? update.bytes : update.weights, 'ack', { timeoutMs: 5000, signal: o.signal })
    },
    // the experiment-only hook: peer 0 misbehaves on its own, nothing on the wire tells it to
    byzantine: attack !== undefined && i === 0 ? { name: attack as any } : undefined,
    log
  }))
  participants.forEach((p, i) => dispatchers.set(peerIds[i], async ({ message }, ctx) => {
    if (message.type === 'hello') return { message: { type: 'hello-ok', clients: p.counts() } }
    if (message.type === 'announce') return { message: await p.accept(message, ctx.from, ctx) }
    throw new Error('unexpected')
  }))
  const grid: MeshGrid = createMeshGrid({
    runId: 'run-test',
    selfId: coordinatorId,
    loadView: { peers: () => peerIds.map(peerLoad) },
    clientCounts: (id) => clientsPerPeer[peerIds.indexOf(id)]?.map(d => d.count),
    announce: async (peerId, message, o) => (await exchange(openerFor(coordinatorId), peerId, message, undefined, 'accept', { timeoutMs: 5000, signal: o.signal })).message,
    deadlineMs: 10_000,
    uplink
  })
  dispatchers.set(coordinatorId, async ({ message, record, compressed }, ctx) => {
    if (message.type === 'pull') {
      const weights = grid.weightsFor(message.version)
      return { message: { type: 'weights', runId: message.runId, version: message.version, weightBytes: encodedWeightRecordSize(weights) }, record: weights }
    }
    if (message.type === 'push') {
      grid.deliver(ctx.from, message, { record, compressed }, ctx.bytesIn)
      return { message: { type: 'ack' } }
    }
    throw new Error('unexpected')
  })
  return { grid, runtime, peerIds, participants, coordinatorId, openerFor }
}

function run (grid: MeshGrid, runtime: ReturnType<typeof fakeRuntime>, rounds = 2) {
  return runFederated({
    grid, runtime, strategy: createStrategy('fedavg'), baseModelId: 'base', initialWeights: constant(0), rounds,
    fraction: 1, minParticipants: 2, roundDeadlineMs: 10_000, maxRoundRetries: 0,
    evaluate: async () => ({ loss: 0, accuracy: 1 }), checkpoint: new MemoryCheckpointStore()
  })
}

describe('the mesh grid over the fedavg wire', () => {
  it('lists every virtual client of every trainable peer and runs rounds through ANNOUNCE, PULL and PUSH', async () => {
    const { grid, runtime, peerIds } = await mesh([[dataset(1), dataset(3)], [dataset(5, 8)]])
    expect(grid.clients().map(c => c.id).sort()).toEqual([`${peerIds[0]}#0`, `${peerIds[0]}#1`, `${peerIds[1]}#0`].sort())
    const result = await run(grid, runtime)
    expect(result.records.map(r => r.participants)).toEqual([3, 3])
    // fake training moves halfway to the client mean; FedAvg weights by examples: round 1 gives (4*0.5 + 4*1.5 + 8*2.5) / 16 = 1.75, round 2 (4*1.375 + 4*2.375 + 8*3.375) / 16 = 2.625
    expect(result.weights[0].data[0]).toBeCloseTo(2.625, 5)
    expect(grid.bytesUp).toBeGreaterThan(0)
    expect(grid.bytesDown).toBeGreaterThan(0)
  })

  it('refuses a NaN update with InvalidUpdateError and records it as that client\'s failure', async () => {
    const { grid, runtime, peerIds } = await mesh([[dataset(1)], [dataset(2)], [dataset(3)]], 'nan')
    const result = await run(grid, runtime, 1)
    const [r] = result.records
    expect(r.participants).toBe(2)
    expect(r.failureReasons).toEqual([{ clientId: `${peerIds[0]}#0`, reason: expect.stringContaining('InvalidUpdateError') }])
  })

  it('refuses late pushes with LateUpdateError and fails waiting clients of a peer that disconnects', async () => {
    const { grid, peerIds } = await mesh([[dataset(1)]])
    const push = { type: 'push', runId: 'run-test', round: 1, attempt: 1, version: 0, clientIndex: 0, numExamples: 4, loss: 0, accuracy: 0, trainMs: 1, weightBytes: 1 } as const
    expect(() => { grid.deliver(peerIds[0], push, constant(1), 10) }).toThrow(expect.objectContaining({ name: 'LateUpdateError' }))
    const hang = createMeshGrid({
      runId: 'run-x', selfId: 'me', loadView: { peers: () => [peerLoad(peerIds[0])] }, clientCounts: () => undefined,
      announce: async () => ({ type: 'accept', numExamples: 4 }), deadlineMs: 60_000
    })
    const training = hang.train(`${peerIds[0]}#0`, { round: 1, modelVersion: 0, baseModelId: 'b', weights: constant(0), config: { epochs: 1, batchSize: 1, learningRate: 0.1, proximalMu: 0, seed: 0 } }, {})
    await new Promise(resolve => setImmediate(resolve))
    hang.peerGone(peerIds[0])
    await expect(training).rejects.toMatchObject({ name: 'PeerDisconnectedError' })
    expect(() => hang.weightsFor(5)).toThrow(expect.objectContaining({ name: 'StaleVersionError' }))
  })

  it('reports each update of the node\'s own clients, which skip the wire, so the node logs them as participants do', async () => {
    const seen: Array<Record<string, unknown>> = []
    const trained = constant(2)
    const own = createMeshGrid({
      runId: 'run-own',
      selfId: 'me',
      local: { counts: () => [4], isTraining: () => false, train: async () => ({ weights: trained, numExamples: 4, loss: 0.5, accuracy: 0.9, trainMs: 12 }) },
      loadView: { peers: () => [] },
      clientCounts: () => undefined,
      announce: async () => { throw new Error('own clients are never announced') },
      deadlineMs: 60_000,
      onLocalUpdate: (round) => { seen.push({ ...round }) }
    })
    const update = await own.train('me#0', { round: 3, modelVersion: 2, baseModelId: 'b', weights: constant(0), config: { epochs: 1, batchSize: 1, learningRate: 0.1, proximalMu: 0, seed: 0 } }, {})
    expect(update.numExamples).toBe(4)
    expect(seen).toEqual([{
      runId: 'run-own', round: 3, clientIndex: 0, numExamples: 4, loss: 0.5,
      bytesUp: encodedWeightRecordSize(trained), bytesDown: encodedWeightRecordSize(constant(0)), trainMs: 12
    }])
  })

  it('answers ANNOUNCE with NoTrainingDataError for a missing client and PeerBusyError for a client busy with another run', async () => {
    const { participants } = await mesh([[dataset(1)]])
    const a = { type: 'announce', runId: 'run-test', round: 1, attempt: 1, version: 0, globalModelId: '', baseModelId: 'b', clientIndex: 3, epochs: 1, batchSize: 1, learningRate: 0.1, proximalMu: 0, seed: 0, deadlineMs: 50 } as const
    await expect(participants[0].accept(a, 'nobody', {})).rejects.toMatchObject({ name: 'NoTrainingDataError' })
    await participants[0].accept({ ...a, clientIndex: 0 }, await randomPeerId(), {})
    await expect(participants[0].accept({ ...a, clientIndex: 0, runId: 'run-other' }, 'nobody', {})).rejects.toMatchObject({ name: 'PeerBusyError' })
    participants[0].stop()
  })
})

describe('compressed updates and local DP over the fedavg wire', () => {
  it('int8: participants push compressed updates, fewer bytes, the same model within one level', async () => {
    const plain = await mesh([[dataset(1), dataset(3)], [dataset(5, 8)]])
    const refused: string[] = []
    const packed = await mesh([[dataset(1), dataset(3)], [dataset(5, 8)]], undefined, new Uplink(parseCompression('int8'), undefined, (r) => refused.push(r)))
    const a = await run(plain.grid, plain.runtime)
    const b = await run(packed.grid, packed.runtime)
    expect(b.records.map(r => r.participants)).toEqual([3, 3])
    expect(b.weights[0].data[0]).toBeCloseTo(a.weights[0].data[0], 4)
    expect(packed.grid.bytesUp).toBeLessThan(plain.grid.bytesUp)
    expect(refused).toEqual([])
  })

  it('top-k with warm-up: each round sends the announced density and keeps the rest as residual', async () => {
    const compression = parseCompression('topk:0.25', { warmupRounds: 2, warmupDensity: 1 })
    const { grid, runtime } = await mesh([[dataset(1)], [dataset(3)]], undefined, new Uplink(compression))
    const result = await run(grid, runtime, 3)
    expect(result.records.map(r => r.participants)).toEqual([2, 2, 2])
    // round 1 sends everything (density 1): FedAvg of 0.5 and 1.5 is 1 in every value
    expect(runtime.registered[0][0].data[0]).toBeCloseTo(1, 5)
    // then density 0.5 (each client sends 2 of the 4 values of w and 1 of the 2 of b), then 0.25 (1 and 1)
    const changed = (a: number, b: number) => runtime.registered[b].reduce((n, t, l) => n + t.data.filter((v, i) => Math.abs(v - runtime.registered[a][l].data[i]) > 1e-6).length, 0)
    expect(changed(0, 1)).toBeGreaterThan(0)
    expect(changed(0, 1)).toBeLessThanOrEqual(2 * 3)
    expect(changed(1, 2)).toBeGreaterThan(0)
    expect(changed(1, 2)).toBeLessThanOrEqual(2 * 2)
    expect(result.records).toHaveLength(3)
  })

  it('refuses a compressed push larger than its round allows before reading it, with MessageTooLargeError, counted', async () => {
    const refused: string[] = []
    const { grid, openerFor, coordinatorId } = await mesh([[dataset(1)]], undefined, new Uplink(parseCompression('int8'), undefined, (r) => refused.push(r)))
    const stranger = await randomPeerId()
    // a request to a peer that cannot be reached still sets the round's global weights
    const request = { round: 1, modelVersion: 0, baseModelId: 'b', weights: constant(0), config: { epochs: 1, batchSize: 1, learningRate: 0.1, proximalMu: 0, seed: 0 } }
    await expect(grid.train(`${stranger}#0`, request, {})).rejects.toThrow()
    const bound = 12 + (8 + 4) + (8 + 2)
    const push: PushMessage = { type: 'push', runId: 'run-test', round: 1, attempt: 1, version: 0, clientIndex: 0, numExamples: 4, loss: 0, accuracy: 0, trainMs: 1, weightBytes: bound + 1, encoding: 'compressed' }
    await expect(exchange(openerFor(stranger), coordinatorId, push, new Uint8Array(bound + 1), 'ack', { timeoutMs: 5000 })).rejects.toMatchObject({ name: 'MessageTooLargeError' })
    await expect(exchange(openerFor(stranger), coordinatorId, { ...push, weightBytes: bound }, new Uint8Array(bound), 'ack', { timeoutMs: 5000 })).rejects.toMatchObject({ name: 'LateUpdateError' })
    expect(refused).toEqual(['compressed_oversized'])
  })

  it('local DP: participants clip their update before it leaves (the coordinator only averages)', async () => {
    const { grid, runtime } = await mesh([[dataset(1)], [dataset(3)]], undefined, new Uplink({ scheme: 'none' }, { clipNorm: 1e-3, noiseMultiplier: 0 }))
    const result = await run(grid, runtime, 1)
    const moved = Math.sqrt(result.weights.reduce((n, t) => n + t.data.reduce((m, v) => m + v * v, 0), 0))
    expect(moved).toBeLessThanOrEqual(1e-3 + 1e-6)
    expect(moved).toBeGreaterThan(0)
  })
})
