/**
 * The federated attacks of issue #10 against real node processes, and what
 * now happens. A seed H coordinates and trusts edges E1 and E2 by `--trust`
 * (so they may START runs on it); the edges bootstrap from H (so they trust
 * it as coordinator); E2 also trusts the stranger R by `--trust`, to show the
 * bounds that hold even for a trusted coordinator. R is a raw libp2p peer in
 * this process that speaks the fedavg protocol as docs/protocols.md documents
 * it (and publishes load reports and run summaries on gossipsub).
 *
 * 1. Unsolicited HELLO/ANNOUNCE/START from a stranger: typed refusals, counted.
 * 2. 10,000 epochs / a 7-day deadline: LimitExceededError even when trusted; a
 *    job stops when its coordinator disconnects and the slot serves an honest run.
 * 3. START from strangers, 100,000 rounds, cancellation mesh-wide (`train stop`),
 *    a cancelled run is not resumed, an unparsable summary.json is listed.
 * 4. Paths in run specs are refused; a broken local dataset's content never
 *    leaves the node.
 * 7. A self-declared seed coordinates nothing; an inflated numExamples is
 *    refused; a forged run summary does not replace the coordinator's.
 */
import { spawnSync } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN_PATH } from '../../src/cli/cluster.js'
import { encodedWeightRecordSize } from '../../src/federated/weights/codec.js'
import { FEDAVG_PROTOCOL, FEDRUNS_TOPIC } from '../../src/federated/mesh/protocol/constants.js'
import { serveStream } from '../../src/federated/mesh/protocol/handler.js'
import { exchange } from '../../src/federated/mesh/protocol/wire.js'
import { encodeRunAnnouncement } from '../../src/federated/mesh/run-gossip.js'
import { newRunId } from '../../src/federated/mesh/run-id.js'
import { encodeLoadReport } from '../../src/gossip/codec.js'
import { LOAD_TOPIC } from '../../src/gossip/constants.js'
import { loadOrCreateIdentity } from '../../src/node/identity.js'
import { MNIST_MODEL_DIR, MNIST_MODEL_ID, TestCluster, addressOn, loopbackAddress, status, waitFor } from '../fixtures/index.js'
import { createRoguePeer } from '../fixtures/rogue-peer.js'
import type { Dispatch } from '../../src/federated/mesh/protocol/handler.js'
import type { AnnounceMessage, FedMessage } from '../../src/federated/mesh/protocol/messages.js'
import type { RunSummary } from '../../src/federated/mesh/service-types.js'
import type { WeightRecord } from '../../src/model/types.js'
import type { NodeProcess } from '../fixtures/index.js'

const TRAIN = { epochs: 1, batchSize: 20, learningRate: 0.1, fraction: 1, roundDeadlineMs: 240_000, strategy: 'fedavg', minParticipants: 2, waitForClients: 2 }
const SECRET = 'SECRET-CONTENT-7f3a'
const log = Object.assign(() => {}, { enabled: false, trace: () => {}, error: () => {}, newScope: () => log }) as any

async function api (node: NodeProcess, path: string, init: RequestInit = {}): Promise<{ status: number, body: any }> {
  const res = await fetch(`${node.apiUrl}${path}`, { ...init, signal: AbortSignal.timeout(60_000) })
  return { status: res.status, body: await res.json() }
}

async function startRun (node: NodeProcess, spec: Record<string, unknown>): Promise<{ status: number, body: any }> {
  return await api(node, '/federated/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) })
}

async function runOn (node: NodeProcess, id: string): Promise<RunSummary | undefined> {
  const res = await api(node, `/federated/runs/${id}`)
  return res.status === 200 ? res.body : undefined
}

async function finished (node: NodeProcess, id: string): Promise<RunSummary> {
  return await waitFor(`run ${id} to end`, async () => {
    const run = await runOn(node, id)
    return run != null && run.state !== 'running' ? run : undefined
  }, 180_000, 250)
}

async function refusals (node: NodeProcess, reason: string): Promise<number> {
  const text = await (await fetch(`${node.apiUrl}/metrics`)).text()
  const line = text.split('\n').find(l => l.startsWith(`edge_mesh_federated_refusals_total{reason="${reason}"}`))
  return line == null ? 0 : Number(line.split(' ').pop())
}

/** The example model's weights, read from its files (R serves them as a coordinator would). */
async function exampleWeights (): Promise<WeightRecord> {
  const manifest = JSON.parse(await readFile(join(MNIST_MODEL_DIR, 'model.json'), 'utf8')).weightsManifest[0].weights as Array<{ name: string, shape: number[] }>
  const bytes = await readFile(join(MNIST_MODEL_DIR, 'weights.bin'))
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)
  let at = 0
  return manifest.map(({ name, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1)
    const data = all.slice(at, at + n)
    at += n
    return { name, shape, dtype: 'float32' as const, data }
  })
}

describe('federated runs against strangers and greedy coordinators (issue #10)', () => {
  const cluster = new TestCluster()
  let rogue: Awaited<ReturnType<typeof createRoguePeer>>
  let R: string
  let H: NodeProcess
  let hDir: string
  let hArgs: string[]
  let hPort: string
  let E1: NodeProcess
  let E2: NodeProcess
  let planted: string
  /** What R answers on `/edge-mesh/fedavg/1.0.0`, switched per test. */
  let dispatch: Dispatch = async () => { throw new Error('R serves nothing yet') }
  let reports: ReturnType<typeof setInterval> | undefined

  const opener = { openStream: async (peer: any, protocol: string, options: any) => await rogue.node.dialProtocol(peer, protocol, options) } as any
  const send = async <N extends FedMessage['type']>(to: NodeProcess, message: FedMessage, expect: N, record?: WeightRecord) =>
    await exchange(opener, to.peerId, message, record, expect, { timeoutMs: 60_000 })
  const refusalOf = async (to: NodeProcess, message: FedMessage): Promise<string> => {
    try {
      await send(to, message, 'ack')
      return 'none'
    } catch (err: any) {
      return err?.name
    }
  }
  const announce = (runId: string, overrides: Partial<AnnounceMessage> = {}): AnnounceMessage => ({
    type: 'announce', runId, round: 1, attempt: 1, version: 0, globalModelId: '', baseModelId: MNIST_MODEL_ID, clientIndex: 0,
    epochs: 1, batchSize: 20, learningRate: 0.1, proximalMu: 0, seed: 0, deadlineMs: 60_000, ...overrides
  })
  /** R says in load gossip what it is, every 200 ms (the local-test preset expires silent peers). */
  const publishReports = (report: { role: 'edge' | 'seed', canTrain: boolean }): void => {
    clearInterval(reports)
    let seq = Date.now()
    const once = (): void => {
      const bytes = encodeLoadReport({ seq: ++seq, timestamp: Date.now(), cpu: 0, memFree: 0, inFlight: 0, queued: 0, capacity: 1, backend: 'cpu', models: [], training: false, name: 'rogue', addrs: [], ...report })
      void rogue.node.services.pubsub.publish(LOAD_TOPIC, bytes).catch(() => {})
    }
    once()
    reports = setInterval(once, 200)
  }

  beforeAll(async () => {
    rogue = await createRoguePeer(loopbackAddress(9))
    R = rogue.node.peerId.toString()
    await rogue.node.handle(FEDAVG_PROTOCOL, async (stream: any, connection: any) => {
      await serveStream(stream, connection.remotePeer.toString(), async (req, ctx) => await dispatch(req, ctx), { timeoutMs: 60_000, log })
    })
    planted = join(await cluster.dir(), 'planted')
    await mkdir(planted)
    await writeFile(join(planted, 'data.csv'), `label,x\n${SECRET},1\n`)
    // the edges' identities exist before the seed starts, so the seed can name them with --trust
    const e1Dir = join(await cluster.dir(), 'E1')
    const e2Dir = join(await cluster.dir(), 'E2')
    const e1Id = peerIdFromPrivateKey(await loadOrCreateIdentity(e1Dir)).toString()
    const e2Id = peerIdFromPrivateKey(await loadOrCreateIdentity(e2Dir)).toString()
    hDir = join(await cluster.dir(), 'H')
    hArgs = ['--data', `broken=${planted}`, '--trust', e1Id, '--trust', e2Id]
    H = await cluster.start('H', hArgs, { command: 'seed', dataDir: hDir, host: loopbackAddress(0) })
    const hAddr = addressOn(H, loopbackAddress(0))
    hPort = hAddr.split('/')[4]
    E1 = await cluster.start('E1', ['--data', 'mnist:0/2', '--bootstrap', hAddr], { host: loopbackAddress(1), dataDir: e1Dir })
    E2 = await cluster.start('E2', ['--data', 'mnist:1/2', '--bootstrap', hAddr, '--trust', R, '--model', MNIST_MODEL_DIR], { host: loopbackAddress(2), dataDir: e2Dir })
    for (const node of [H, E1, E2]) await rogue.dial(addressOn(node, loopbackAddress([H, E1, E2].indexOf(node))))
    await waitFor('H sees both trainable edges, R sees every node on the gossip topics', async () => {
      const s = await status(H)
      const trainable = s.peers.filter(p => p.load?.canTrain === true).length
      const pubsub = rogue.node.services.pubsub
      return trainable >= 2 && pubsub.getSubscribers(LOAD_TOPIC).length >= 3 && pubsub.getSubscribers(FEDRUNS_TOPIC).length >= 3
    }, 90_000, 200)
  })
  afterAll(async () => {
    clearInterval(reports)
    await rogue?.stop()
    await cluster.cleanup()
  })

  it('#1 #7: refuses a stranger\'s HELLO, ANNOUNCE and START with typed errors, and a self-declared seed coordinates nothing, while an honest run completes', async () => {
    publishReports({ role: 'seed', canTrain: false })
    await waitFor('E1 sees R claim the seed role', async () => (await status(E1)).peers.some(p => p.peerId === R && p.load?.role === 'seed'), 60_000, 100)
    const started = await startRun(E1, { ...TRAIN, rounds: 1 })
    expect(started.status).toBe(202)
    expect(started.body.coordinator).toBe(H.peerId)

    expect(await refusalOf(E1, { type: 'hello' })).toBe('UntrustedCoordinatorError')
    expect(await refusalOf(E1, announce('run-stranger'))).toBe('UntrustedCoordinatorError')
    expect(await refusalOf(H, { type: 'start', spec: { rounds: 100_000 } })).toBe('UntrustedPeerError')
    expect(await refusalOf(E1, { type: 'start', spec: { rounds: 1 } })).toBe('UntrustedPeerError')
    expect(await refusals(E1, 'untrusted_hello')).toBeGreaterThanOrEqual(1)
    expect(await refusals(E1, 'untrusted_announce')).toBeGreaterThanOrEqual(1)
    expect(await refusals(H, 'untrusted_start')).toBeGreaterThanOrEqual(1)

    const run = await finished(H, started.body.id)
    expect(run.state).toBe('completed')
    expect(run.history[0].participants).toBe(2)
    expect(run.coordinator).toBe(H.peerId)
    clearInterval(reports)
  })

  it('#2: bounds hold even for a trusted coordinator, and a job stops when its coordinator disconnects so an honest run gets the slot', async () => {
    expect(await refusalOf(E2, announce(newRunId(R), { epochs: 10_000 }))).toBe('LimitExceededError')
    expect(await refusalOf(E2, announce(newRunId(R), { deadlineMs: 7 * 24 * 3600 * 1000 }))).toBe('LimitExceededError')
    expect(await refusals(E2, 'epochs')).toBeGreaterThanOrEqual(1)
    expect(await refusals(E2, 'deadline')).toBeGreaterThanOrEqual(1)
    const rounds = await startRun(H, { ...TRAIN, rounds: 100_000 })
    expect(rounds.status).toBe(422)
    expect(rounds.body.error.name).toBe('LimitExceededError')

    // R, trusted by E2, asks for the longest job its bounds allow and serves the weights
    const weights = await exampleWeights()
    const runId = newRunId(R)
    dispatch = async ({ message }) => {
      if (message.type !== 'pull') throw new Error(`unexpected ${message.type}`)
      return { message: { type: 'weights', runId, version: 0, weightBytes: encodedWeightRecordSize(weights) }, record: weights }
    }
    const accepted = await send(E2, announce(runId, { epochs: 50, deadlineMs: 600_000 }), 'accept')
    expect(accepted.message.numExamples).toBeGreaterThan(0)
    await waitFor('E2 training for R', async () => (await status(E2)).load?.training === true, 120_000, 50)
    await rogue.node.hangUp(peerIdFromString(E2.peerId))
    await waitFor('E2 stops training once R is gone', async () => (await status(E2)).load?.training === false, 120_000, 100)

    const honest = await startRun(H, { ...TRAIN, rounds: 1 })
    expect(honest.status).toBe(202)
    const run = await finished(H, honest.body.id)
    expect(run.state).toBe('completed')
    expect(run.history[0].participantIds.some(id => id.startsWith(E2.peerId))).toBe(true)
  })

  it('#4: run specs name datasets, never paths, and a broken local dataset\'s content never leaves the coordinator', async () => {
    for (const evalData of ['/etc', planted, 'nope']) {
      const res = await startRun(H, { ...TRAIN, rounds: 1, evalData })
      expect(res.status).toBe(400)
      expect(res.body.error.name).toBe('InvalidConfigError')
      expect(JSON.stringify(res.body)).not.toContain(SECRET)
    }
    const started = await startRun(H, { ...TRAIN, rounds: 1, evalData: 'broken' })
    expect(started.status).toBe(202)
    const run = await finished(H, started.body.id)
    expect(run.state).toBe('failed')
    expect(JSON.stringify(run)).not.toContain(SECRET)
    const gossiped = await waitFor('E1 learns the failed run by gossip', async () => {
      const r = await runOn(E1, started.body.id)
      return r?.state === 'failed' ? r : undefined
    }, 60_000, 200)
    expect(JSON.stringify(gossiped)).not.toContain(SECRET)
  })

  it('#3: train stop cancels a run mesh-wide, only the coordinator\'s trusted peers may, and a cancelled run is not resumed; an unparsable summary is listed', async () => {
    const started = await startRun(H, { ...TRAIN, rounds: 50 })
    expect(started.status).toBe(202)
    const id = started.body.id as string
    await waitFor('round 1 done', async () => ((await runOn(H, id))?.completedRounds ?? 0) >= 1, 120_000, 100)
    expect(await refusalOf(H, { type: 'cancel', runId: id })).toBe('UntrustedPeerError')
    expect(await refusals(H, 'untrusted_cancel')).toBeGreaterThanOrEqual(1)

    const stop = spawnSync(process.execPath, [BIN_PATH, 'train', 'stop', id, '--api', H.apiUrl], { encoding: 'utf8', timeout: 120_000 })
    expect(stop.status).toBe(0)
    expect(stop.stdout).toContain('cancelled')
    const cancelled = await runOn(H, id)
    expect(cancelled?.state).toBe('cancelled')
    expect(cancelled?.error?.name).toBe('RunCancelledError')
    await waitFor('E1 sees the run cancelled', async () => (await runOn(E1, id))?.state === 'cancelled', 60_000, 200)
    await waitFor('participants stop training', async () => (await status(E1)).load?.training === false && (await status(E2)).load?.training === false, 120_000, 100)

    // an older run's summary.json torn on disk, then H restarts on the same data dir and port
    const runs = (await api(H, '/federated/runs')).body.runs as RunSummary[]
    const older = runs.find(r => r.state === 'completed' && r.coordinator === H.peerId)!
    await H.stop()
    await writeFile(join(hDir, 'federated', older.id, 'summary.json'), `{"id": "${SECRET}`)
    H = await cluster.start('H', [...hArgs, '--listen', `/ip4/${loopbackAddress(0)}/tcp/${hPort}`], { command: 'seed', dataDir: hDir, host: loopbackAddress(0) })
    const after = await waitFor('H lists the cancelled run again', async () => await runOn(H, id), 60_000, 100)
    expect(after.state).toBe('cancelled')
    expect(after.completedRounds).toBe(cancelled?.completedRounds)
    const torn = await runOn(H, older.id)
    expect(torn?.state).toBe('failed')
    expect(torn?.error?.name).toBe('RunFileUnreadableError')
    expect(JSON.stringify(torn)).not.toContain(SECRET)
  })

  it('#7: a PUSH claiming 4,294,967,295 examples is refused and a forged run summary is not accepted, while the honest run completes', async () => {
    await rogue.dial(addressOn(H, loopbackAddress(0)))
    publishReports({ role: 'edge', canTrain: true })
    await waitFor('H sees E1, E2 and R as trainable', async () => (await status(H)).peers.filter(p => p.load?.canTrain === true).length >= 3, 60_000, 100)
    const pushed: string[] = []
    dispatch = async ({ message }, ctx) => {
      if (message.type === 'hello') return { message: { type: 'hello-ok', clients: [20] } }
      if (message.type !== 'announce') throw new Error(`unexpected ${message.type}`)
      const a = message
      void (async () => {
        const pulled = await exchange(opener, ctx.from, { type: 'pull', runId: a.runId, version: a.version }, undefined, 'weights', { timeoutMs: 60_000 })
        const zeros = pulled.record!.map(t => ({ ...t, data: new Float32Array(t.data.length) }))
        const header = { type: 'push', runId: a.runId, round: a.round, attempt: a.attempt, version: a.version, clientIndex: a.clientIndex, numExamples: 4_294_967_295, loss: 0, accuracy: 1, trainMs: 1, weightBytes: encodedWeightRecordSize(zeros) } as const
        await exchange(opener, ctx.from, header, zeros, 'ack', { timeoutMs: 60_000 }).then(() => pushed.push('ack'), (err) => pushed.push(err?.name))
      })()
      return { message: { type: 'accept', numExamples: 20 } }
    }
    const started = await startRun(H, { ...TRAIN, rounds: 1, waitForClients: 3 })
    expect(started.status).toBe(202)
    const id = started.body.id as string

    // R forges H's run: same id, R as coordinator, a far higher sequence number; and announces a run of its own as a control
    const forged = { id, state: 'failed', strategy: 'fedavg', rounds: 1, completedRounds: 0, coordinator: R, globalModelId: 'sha256-x', startedAt: 1, history: [] } satisfies RunSummary
    const mine = { ...forged, id: newRunId(R), state: 'running' } satisfies RunSummary
    await rogue.node.services.pubsub.publish(FEDRUNS_TOPIC, encodeRunAnnouncement({ seq: 1e15, run: forged }))
    await rogue.node.services.pubsub.publish(FEDRUNS_TOPIC, encodeRunAnnouncement({ seq: 1, run: mine }))
    await waitFor('E1 lists R\'s own run (gossip from R arrives)', async () => (await runOn(E1, mine.id)) !== undefined, 60_000, 200)

    const run = await finished(H, id)
    clearInterval(reports)
    expect(run.state).toBe('completed')
    expect(run.history[0].participants).toBe(2)
    expect(run.history[0].failureReasons.some(f => f.includes(R) && f.includes('InvalidUpdateError'))).toBe(true)
    expect(run.history[0].accuracy).toBeGreaterThan(0.5)
    expect(pushed.length).toBeGreaterThan(0)
    expect(new Set(pushed)).toEqual(new Set(['InvalidUpdateError']))
    expect(await refusals(H, 'examples')).toBeGreaterThanOrEqual(1)
    const seen = await waitFor('E1 sees the run completed by H', async () => {
      const r = await runOn(E1, id)
      return r?.state === 'completed' ? r : undefined
    }, 60_000, 200)
    expect(seen.coordinator).toBe(H.peerId)
  })
})
