/**
 * Compression and local DP across real node processes: a seed coordinates
 * two edges (each with its own MNIST shard). The same seeded run with float32
 * and with int8 updates: int8 moves about a quarter of the uplink bytes and
 * ends close to the float32 model; a local-DP run (participants clip and
 * noise their own updates) reports ε after every round; a top-k run for
 * partial participation (stale-residual discount on the participants,
 * averaging over senders on the coordinator) completes with 1 % updates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { epsilonAfter } from '../../src/federated/privacy/accountant.js'
import { TestCluster, addressOn, loopbackAddress, status, waitFor } from '../fixtures/index.js'
import type { NodeProcess } from '../fixtures/index.js'
import type { RunSummary } from '../../src/federated/mesh/service-types.js'

const BASE = { rounds: 2, epochs: 1, batchSize: 20, learningRate: 0.1, fraction: 1, minParticipants: 2, waitForClients: 2, roundDeadlineMs: 90_000, seed: 7 }

describe('compressed updates and local DP across the mesh', () => {
  const cluster = new TestCluster()
  let seed: NodeProcess
  const edges: NodeProcess[] = []

  /** Start a run on the seed (the edges trust it: they bootstrap from it) and wait for its end. */
  async function finished (spec: Record<string, unknown>): Promise<RunSummary> {
    const res = await fetch(`${seed.apiUrl}/federated/runs`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...BASE, ...spec }), signal: AbortSignal.timeout(60_000)
    })
    expect(res.status).toBe(202)
    const { id } = await res.json()
    return await waitFor(`run ${id} to finish`, async () => {
      const r = await fetch(`${seed.apiUrl}/federated/runs/${id}`)
      const run = r.status === 200 ? await r.json() as RunSummary : undefined
      return run != null && run.state !== 'running' ? run : undefined
    }, 180_000, 250)
  }

  beforeAll(async () => {
    seed = await cluster.start('pw-seed', [], { command: 'seed', host: loopbackAddress(0) })
    const seedAddr = addressOn(seed, loopbackAddress(0))
    for (let k = 0; k < 2; k++) edges.push(await cluster.start(`pw-edge-${k}`, ['--data', `mnist:${k}/8`, '--bootstrap', seedAddr], { host: loopbackAddress(k + 1) }))
    await waitFor('the seed sees both trainable edges', async () => {
      const s = await status(seed)
      return s.peers.filter(p => p.load?.canTrain === true && edges.some(e => e.peerId === p.peerId)).length === 2
    }, 90_000, 200)
  })
  afterAll(async () => { await cluster.cleanup() })

  it('int8 updates move about a quarter of the float32 bytes and end close to the float32 model', async () => {
    const plain = await finished({})
    const int8 = await finished({ compression: 'int8' })
    expect(plain.state).toBe('completed')
    expect(int8.state).toBe('completed')
    expect(int8.history.map(r => r.participants)).toEqual([2, 2])
    const up = (run: RunSummary): number => run.history.reduce((n, r) => n + r.bytesUp, 0)
    expect(up(plain) / up(int8)).toBeGreaterThan(3.9)
    expect(up(plain) / up(int8)).toBeLessThan(4.1)
    expect(Math.abs(int8.history[1].accuracy - plain.history[1].accuracy)).toBeLessThan(0.03)
  })

  it('a local-DP run reports epsilon after every round', async () => {
    const run = await finished({ dp: { mode: 'local', clipNorm: 1, noiseMultiplier: 0.5 }, compression: 'topk:0.01' })
    expect(run.state).toBe('completed')
    expect(run.history.map(r => r.epsilon)).toEqual([1, 2].map(steps => expect.closeTo(epsilonAfter(1, 0.5, steps, 1e-5), 6)))
    expect(run.privacy).toMatchObject({ mode: 'local', clipNorm: 1, noiseMultiplier: 0.5 })
    // two top-k updates per round of the 2NN, warming up (10 %, then 4.6 % of the values): far below two float32 records (2 x 797 kB)
    expect(run.history[0].bytesUp).toBeLessThan(2 * 200_000)
    expect(run.history[1].bytesUp).toBeLessThan(run.history[0].bytesUp)
  })

  it('top-k 1 % with the stale-residual discount and averaging over senders completes, sending 1 % of the values every round', async () => {
    const run = await finished({ compression: { scheme: 'topk', ratio: 0.01, momentum: 0, warmupRounds: 0, staleness: 1, average: 'senders' } })
    expect(run.state).toBe('completed')
    expect(run.history.map(r => r.participants)).toEqual([2, 2])
    // each update of the 2NN at 1 %: 12 + 6 x 8 + 8 x 1,993 values = 16,004 bytes, plus the PUSH header
    for (const r of run.history) {
      expect(r.bytesUp).toBeGreaterThan(2 * 16_004)
      expect(r.bytesUp).toBeLessThan(2 * 17_000)
    }
    expect(run.history[1].accuracy).toBeGreaterThan(0.2)
  })
})
