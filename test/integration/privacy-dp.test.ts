/**
 * Differential privacy across real node processes: a seed coordinates two
 * edges (each with its own MNIST shard) in a central DP-FedAvg run with a
 * target ε; the run reports ε after every round in its summary (on every
 * node, through gossip) and stops before the round that would pass the target.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { epsilonAfter } from '../../src/federated/privacy/accountant.js'
import { TestCluster, addressOn, loopbackAddress, status, waitFor } from '../fixtures/index.js'
import type { NodeProcess } from '../fixtures/index.js'
import type { RunSummary } from '../../src/federated/mesh/service-types.js'

async function runOn (node: NodeProcess, id: string): Promise<RunSummary | undefined> {
  const res = await fetch(`${node.apiUrl}/federated/runs/${id}`)
  return res.status === 200 ? await res.json() : undefined
}

describe('DP-FedAvg across the mesh', () => {
  const cluster = new TestCluster()
  let seed: NodeProcess
  const edges: NodeProcess[] = []

  beforeAll(async () => {
    seed = await cluster.start('dp-seed', [], { command: 'seed', host: loopbackAddress(0) })
    const seedAddr = addressOn(seed, loopbackAddress(0))
    for (let k = 0; k < 2; k++) edges.push(await cluster.start(`dp-edge-${k}`, ['--data', `mnist:${k}/8`, '--bootstrap', seedAddr], { host: loopbackAddress(k + 1) }))
    await waitFor('the seed sees both trainable edges', async () => {
      const s = await status(seed)
      return s.peers.filter(p => p.load?.canTrain === true && edges.some(e => e.peerId === p.peerId)).length === 2
    }, 90_000, 200)
  })
  afterAll(async () => { await cluster.cleanup() })

  it('reports epsilon every round and stops before passing the target', async () => {
    // every client every round (q = 1), z = 2: the target sits between epsilon after 2 and after 3 rounds
    const dp = { mode: 'central', clipNorm: 1, noiseMultiplier: 2, delta: 1e-5, targetEpsilon: (epsilonAfter(1, 2, 2, 1e-5) + epsilonAfter(1, 2, 3, 1e-5)) / 2 }
    // started on the seed: the edges trust it as their coordinator (they bootstrap from it), while the
    // seed would refuse START from an edge it does not trust (docs/security.md, "Federated runs")
    const res = await fetch(`${seed.apiUrl}/federated/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rounds: 10, epochs: 1, batchSize: 20, learningRate: 0.1, fraction: 1, minParticipants: 2, waitForClients: 2, roundDeadlineMs: 90_000, dp }),
      signal: AbortSignal.timeout(60_000)
    })
    expect(res.status).toBe(202)
    const { id } = await res.json()
    const run = await waitFor(`run ${id} to finish`, async () => {
      const r = await runOn(edges[1], id)
      return r != null && r.state !== 'running' ? r : undefined
    }, 150_000, 250)
    expect(run.state).toBe('completed')
    expect(run.stopReason).toBe('target-epsilon')
    expect(run.history.map(r => r.round)).toEqual([1, 2])
    expect(run.history[0].epsilon).toBeCloseTo(epsilonAfter(1, 2, 1, 1e-5), 6)
    expect(run.history[1].epsilon).toBeCloseTo(epsilonAfter(1, 2, 2, 1e-5), 6)
    expect(run.history[1].delta).toBe(1e-5)
    expect(run.privacy?.epsilon).toBeLessThanOrEqual(dp.targetEpsilon)
    expect(run.privacy).toMatchObject({ mode: 'central', clipNorm: 1, noiseMultiplier: 2 })
  })

  it('refuses DP with a robust strategy, naming the field', async () => {
    const res = await fetch(`${edges[0].apiUrl}/federated/runs`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rounds: 1, strategy: 'krum', dp: { mode: 'local' } })
    })
    expect(res.status).toBe(400)
    expect(JSON.stringify(await res.json())).toContain('dp')
  })
})
