/**
 * Fault scenario 3: one participant is cut off by a partition in the middle of
 * a federated round. The round completes without it (or aborts cleanly), the
 * model version only rises, no client is counted twice in a round, and once
 * healed the node takes part again with the current global model within two
 * rounds.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startNodeProcess } from '../../src/cli/cluster.js'
import { TestCluster, apiHeaders, getJson, status, waitFor } from '../fixtures/index.js'
import { createTestNetwork, netnsUnavailable } from '../fixtures/netns.js'
import { heal, nftUnavailable, partition } from '../fixtures/nft.js'
import type { NodeProcess } from '../fixtures/index.js'
import type { TestHost, TestNetwork } from '../fixtures/netns.js'
import type { RunSummary } from '../../src/federated/mesh/service-types.js'

const unavailable = netnsUnavailable() ?? nftUnavailable()

describe.skipIf(unavailable != null)('a partition during a federated round', () => {
  const cluster = new TestCluster()
  let net: TestNetwork
  let seed: NodeProcess
  const edges: NodeProcess[] = []

  const startOn = async (host: TestHost, name: string, args: string[], command: 'start' | 'seed' = 'start'): Promise<NodeProcess> => {
    const node = await startNodeProcess({
      prefix: host.prefix,
      command,
      args: ['--name', name, '--preset', 'local-test', '--listen', `/ip4/${host.ip}/tcp/4010`, '--api-host', host.ip, '--api-port', '7373', '--data-dir', join(await cluster.dir(), name), ...args]
    })
    cluster.nodes.push(node)
    return node
  }

  beforeAll(async () => {
    net = createTestNetwork(5)
    seed = await startOn(net.hosts[0], 'seed', [], 'seed')
    const boot = `/ip4/${net.hosts[0].ip}/tcp/4010/p2p/${seed.peerId}`
    for (let i = 1; i <= 4; i++) edges.push(await startOn(net.hosts[i], `edge-${i}`, ['--bootstrap', boot, '--data', `mnist:${i - 1}/4`]))
    await waitFor('seed sees four trainers', async () => (await status(seed)).peers.filter(p => p.connected && p.load?.canTrain === true).length === 4)
  })
  afterAll(async () => {
    for (const h of net?.hosts ?? []) heal(h)
    await cluster.cleanup()
    net?.destroy()
  })

  it('completes rounds without the cut-off node, counts nobody twice, and takes it back after healing', async () => {
    const res = await fetch(`${seed.apiUrl}/federated/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...apiHeaders(seed) },
      body: JSON.stringify({ rounds: 7, epochs: 1, batchSize: 20, learningRate: 0.1, fraction: 1, minParticipants: 3, roundDeadlineMs: 20_000, waitForClients: 4 })
    })
    expect(res.status).toBe(202)
    const { id } = await res.json() as { id: string }
    const victim = edges[3]
    const victimClient = `${victim.peerId}#0`
    const seen: number[] = []
    const run = async (): Promise<RunSummary> => {
      const r: RunSummary = await getJson(`${seed.apiUrl}/federated/runs/${id}`, { headers: apiHeaders(seed) })
      seen.push(r.completedRounds)
      return r
    }

    await waitFor('round 1 done', async () => (await run()).completedRounds >= 1, 180_000, 250)
    await waitFor('the victim trains in round 2', async () => {
      const l = (await status(seed)).peers.find(p => p.peerId === victim.peerId)?.load
      return l?.training === true
    }, 120_000, 50)
    const cutAt = (await run()).completedRounds
    partition(net.hosts[4], net.gateway)
    const afterCut = await waitFor('a round completes during the partition', async () => {
      const r = await run()
      return r.completedRounds > cutAt ? r : undefined
    }, 180_000, 250)
    const partitionedRound = afterCut.history.find(h => h.round === cutAt + 1)!
    expect(partitionedRound.participantIds).not.toContain(victimClient)
    expect(partitionedRound.participants).toBeGreaterThanOrEqual(3)

    heal(net.hosts[4])
    const healedAt = afterCut.completedRounds
    const final = await waitFor('the healed node takes part again', async () => {
      const r = await run()
      const back = r.history.find(h => h.round > healedAt && h.participantIds.includes(victimClient))
      return back != null || r.state !== 'running' ? r : undefined
    }, 240_000, 250)
    const backIn = final.history.find(h => h.round > healedAt && h.participantIds.includes(victimClient))
    process.stdout.write(`partition scenario: cut in round ${cutAt + 1} (${partitionedRound.participants} participants, failures: ${partitionedRound.failureReasons.join('; ') || 'none'}); healed after round ${healedAt}; back in round ${backIn?.round ?? 'never'}\n`)
    expect(backIn).toBeDefined()
    expect(backIn!.round - healedAt).toBeLessThanOrEqual(2)

    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1])
    for (const h of final.history) expect(new Set(h.participantIds).size).toBe(h.participantIds.length)
    const ids = final.history.map(h => h.globalModelId)
    expect(new Set(ids).size).toBe(ids.length)
  })
})
