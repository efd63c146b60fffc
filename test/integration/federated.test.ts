/**
 * Federated averaging between real node processes: a seed coordinates, four
 * edges each hold a different MNIST shard (`--data mnist:<k>/4`). The mesh is
 * private (`--mesh-key`): the seed trusts its members to START runs
 * (`--trust-mesh`), the edges trust the seed they bootstrap from as their
 * coordinator. Rounds complete and accuracy rises, the global model serves
 * inference anywhere, a malformed update from an experiment node started
 * with `--byzantine nan` is refused and recorded, FLTrust outvotes a boosted
 * reversed update (`--byzantine scale:scale=-10`), a restarted coordinator
 * resumes from its checkpoint, and a participant killed mid-round does not
 * stop the round.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeMeshKey } from '../../src/trust/mesh-key.js'
import { TestCluster, addressOn, getJson, inferVia, loopbackAddress, mnistDigit, status, waitFor } from '../fixtures/index.js'
import type { NodeProcess } from '../fixtures/index.js'
import type { RunSummary } from '../../src/federated/mesh/service-types.js'

const TRAIN = { epochs: 1, batchSize: 20, learningRate: 0.1, fraction: 1, roundDeadlineMs: 240_000, strategy: 'fedavg' }

async function startRun (node: NodeProcess, body: Record<string, unknown>): Promise<{ status: number, body: any }> {
  const res = await fetch(`${node.apiUrl}/federated/runs`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000)
  })
  return { status: res.status, body: await res.json() }
}

async function runOn (node: NodeProcess, id: string): Promise<RunSummary | undefined> {
  const res = await fetch(`${node.apiUrl}/federated/runs/${id}`)
  return res.status === 200 ? await res.json() : undefined
}

async function finished (node: NodeProcess, id: string, timeoutMs = 300_000): Promise<RunSummary> {
  return await waitFor(`run ${id} to finish`, async () => {
    const run = await runOn(node, id)
    return run != null && run.state !== 'running' ? run : undefined
  }, timeoutMs, 250)
}

describe('federated averaging across the mesh', () => {
  const cluster = new TestCluster()
  let seed: NodeProcess
  let seedDir: string
  let seedAddr: string
  const edges: NodeProcess[] = []
  let key: string

  /** Start an extra edge (e.g. an experiment node with --byzantine) and wait until the seed can train with it. */
  async function extraEdge (name: string, args: string[]): Promise<NodeProcess> {
    const node = await cluster.start(name, ['--mesh-key', key, '--bootstrap', seedAddr, ...args], { host: loopbackAddress(5) })
    await waitFor(`the seed sees ${name} trainable`, async () => (await status(seed)).peers.some(p => p.peerId === node.peerId && p.load?.canTrain === true), 90_000, 200)
    return node
  }

  /** Stop an extra edge and wait until the seed no longer counts it as a client. */
  async function removeEdge (node: NodeProcess): Promise<void> {
    await node.stop()
    await waitFor('the seed forgets the stopped edge', async () => !(await status(seed)).peers.some(p => p.peerId === node.peerId && p.load?.canTrain === true), 90_000, 200)
  }

  beforeAll(async () => {
    key = join(await cluster.dir(), 'mesh.key')
    await writeMeshKey(key)
    seedDir = join(await cluster.dir(), 'fed-seed')
    seed = await cluster.start('fed-seed', ['--mesh-key', key, '--trust-mesh'], { command: 'seed', dataDir: seedDir, host: loopbackAddress(0) })
    seedAddr = addressOn(seed, loopbackAddress(0))
    for (let k = 0; k < 4; k++) {
      edges.push(await cluster.start(`fed-edge-${k}`, ['--mesh-key', key, '--data', `mnist:${k}/4`, '--bootstrap', seedAddr], { host: loopbackAddress(k + 1) }))
    }
    await waitFor('the seed and every edge see the four trainable edges', async () => {
      for (const node of [seed, ...edges]) {
        const s = await status(node)
        const trainable = s.peers.filter(p => p.load?.canTrain === true && edges.some(e => e.peerId === p.peerId)).length
        const seesSeed = node === seed || s.peers.some(p => p.peerId === seed.peerId && p.load?.role === 'seed')
        if (trainable < (node === seed ? 4 : 3) || !seesSeed) return false
      }
      return true
    }, 90_000, 200)
  })
  afterAll(async () => { await cluster.cleanup() })

  it('4 nodes with different shards complete 3 rounds, accuracy rises and the global model serves inference anywhere', async () => {
    const started = await startRun(edges[0], { ...TRAIN, rounds: 3, minParticipants: 3, waitForClients: 4 })
    expect(started.status).toBe(202)
    expect(started.body.coordinator).toBe(seed.peerId)
    const run = await finished(edges[3], started.body.id)
    expect(run.state).toBe('completed')
    expect(run.history.map(r => r.round)).toEqual([1, 2, 3])
    for (const r of run.history) {
      expect(r.participants).toBe(4)
      expect(r.failures).toBe(0)
      expect(r.bytesUp).toBeGreaterThan(4 * 700_000)
      expect(r.bytesDown).toBeGreaterThan(4 * 700_000)
    }
    expect(run.history[2].accuracy).toBeGreaterThan(run.history[0].accuracy)
    expect(run.history[2].accuracy).toBeGreaterThan(0.85)
    expect(run.initial?.accuracy).toBeLessThan(run.history[0].accuracy)
    expect(run.sampling).toContain('4 of 4 clients per round: fraction 1 (as asked), min participants 3 (as asked)')
    // Flower-like round logs in the nodes' own output: the coordinator per round, each participant per update
    await waitFor('the seed to log round 3', () => seed.stderr.some(l => l.includes(`run ${run.id} round 3/3: 4 participants, 0 failures, accuracy`)), 30_000)
    expect(seed.stderr.some(l => l.includes(`run ${run.id} round 0 (initial model): accuracy`))).toBe(true)
    expect(edges[1].stderr.some(l => new RegExp(`run ${run.id} round 1 client #0: \\d+ examples, local loss [\\d.]+, pulled [\\d.]+ MB, pushed`).test(l))).toBe(true)
    const res = await inferVia(edges[2], { model: run.globalModelId, inputs: [await mnistDigit(7)], deadlineMs: 60_000 })
    expect(res.status).toBe(200)
    const out = res.body.outputs[0].data as number[]
    expect(out.indexOf(Math.max(...out))).toBe(7)
    const listed = await getJson(`${edges[1].apiUrl}/federated/runs`)
    expect(listed.runs.map((r: RunSummary) => r.id)).toContain(run.id)
  }, 360_000)

  it('answers bad run specs and unknown runs with named errors', async () => {
    const bad = await startRun(edges[0], { rounds: 0 })
    expect(bad.status).toBe(400)
    expect(bad.body.error.name).toBe('InvalidConfigError')
    const strategy = await startRun(seed, { rounds: 1, strategy: 'nope' })
    expect(strategy.body.error.name).toBe('InvalidConfigError')
    const res = await fetch(`${edges[0].apiUrl}/federated/runs/run-unknown`)
    expect(res.status).toBe(404)
    expect((await res.json()).error.name).toBe('RunNotFoundError')
  })

  it('rejects a malformed (NaN) update with InvalidUpdateError and records it as a failure of that client', async () => {
    const byzantine = await extraEdge('fed-byz-nan', ['--data', 'mnist:2/4', '--byzantine', 'nan'])
    const started = await startRun(seed, { ...TRAIN, rounds: 1, minParticipants: 2, waitForClients: 5 })
    expect(started.status).toBe(202)
    const run = await finished(seed, started.body.id)
    await removeEdge(byzantine)
    expect(run.state).toBe('completed')
    const [round] = run.history
    expect(round.participants).toBe(4)
    expect(round.failures).toBe(1)
    expect(round.failureReasons[0]).toContain(byzantine.peerId)
    expect(round.failureReasons[0]).toContain('InvalidUpdateError')
  }, 420_000)

  it('refuses attacks in run specs: they are an experiment node\'s own setting, never on the wire', async () => {
    const res = await startRun(seed, { ...TRAIN, rounds: 1, byzantine: { attack: 'nan', clients: [edges[2].peerId] } })
    expect(res.status).toBe(400)
    expect(res.body.error.message).toContain('byzantine')
  })

  it('FLTrust with a root data set at the coordinator ignores a reversed, boosted update that would wreck the average', async () => {
    const missing = await startRun(seed, { ...TRAIN, rounds: 1, strategy: 'fltrust' })
    expect(missing.status).toBe(400)
    expect(missing.body.error.message).toContain('rootData')
    const byzantine = await extraEdge('fed-byz-scale', ['--data', 'mnist:1/4', '--byzantine', 'scale:scale=-10'])
    const started = await startRun(seed, {
      ...TRAIN, strategy: 'fltrust', rootData: 'mnist:0/80:seed=1', rounds: 2, minParticipants: 5, waitForClients: 5
    })
    expect(started.status).toBe(202)
    const run = await finished(seed, started.body.id)
    await removeEdge(byzantine)
    expect(run.state).toBe('completed')
    expect(run.history.map(r => r.participants)).toEqual([5, 5])
    expect(run.history[1].accuracy).toBeGreaterThan(0.85)
  }, 420_000)

  it('a coordinator killed and restarted with the same data dir resumes from its checkpoint', async () => {
    const started = await startRun(seed, { ...TRAIN, rounds: 3, minParticipants: 3, waitForClients: 4 })
    const id = started.body.id as string
    const before = await waitFor('round 1 checkpointed', async () => {
      const run = await runOn(seed, id)
      return run != null && run.completedRounds >= 1 ? run : undefined
    }, 120_000, 100)
    await seed.kill()
    const port = seedAddr.split('/')[4]
    seed = await cluster.start('fed-seed', ['--mesh-key', key, '--trust-mesh', '--listen', `/ip4/${loopbackAddress(0)}/tcp/${port}`, '--bootstrap', addressOn(edges[0], loopbackAddress(1))], {
      command: 'seed', dataDir: seedDir, host: loopbackAddress(0)
    })
    const resumed = await waitFor('the run listed again by the restarted coordinator', async () => await runOn(seed, id), 60_000, 100)
    expect(resumed.completedRounds).toBeGreaterThanOrEqual(before.completedRounds)
    const run = await finished(seed, id)
    expect(run.state).toBe('completed')
    expect(run.history.map(r => r.round)).toEqual([1, 2, 3])
    expect(run.history[0].globalModelId).toBe(before.history[0].globalModelId)
  }, 360_000)

  it('a participant killed mid-round does not stop the round: it completes with the others and records the failure', async () => {
    const victim = edges[3]
    const started = await startRun(seed, { ...TRAIN, epochs: 3, rounds: 2, minParticipants: 2, waitForClients: 4 })
    expect(started.status).toBe(202)
    await waitFor('the victim training', async () => (await status(victim)).load?.training === true, 120_000, 20)
    await victim.kill()
    const run = await finished(seed, started.body.id)
    expect(run.state).toBe('completed')
    expect(run.history.map(r => r.round)).toEqual([1, 2])
    const failed = run.history.find(r => r.failureReasons.some(f => f.includes(victim.peerId)))
    expect(failed).toBeDefined()
    expect(failed!.participants).toBeGreaterThanOrEqual(2)
  }, 360_000)
})
