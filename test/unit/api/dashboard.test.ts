/** Dashboard snapshot, capability metrics and the dashboard's routes, over a stubbed in-process API. */
import { afterEach, describe, expect, it } from 'vitest'
import { federatedMetrics, offloadMetrics } from '../../../src/api/routes/capability-metrics.js'
import { recentRuns } from '../../../src/api/snapshot.js'
import { STUB_SELF, startStubApi, stubReport, stubRound, stubState } from '../../fixtures/stub-api.js'
import type { ControlApi } from '../../../src/api/index.js'
import type { RunSummary } from '../../../src/federated/mesh/service-types.js'

const run = (id: string, startedAt: number, rounds: number, state: RunSummary['state'] = 'completed'): RunSummary => ({
  id, state, strategy: 'fedavg', rounds, completedRounds: rounds, coordinator: 'x', globalModelId: `g-${id}`, startedAt,
  history: Array.from({ length: rounds }, (_, i) => stubRound(i + 1))
})

describe('recentRuns', () => {
  it('keeps the latest runs, oldest first', () => {
    const runs = [run('c', 3, 1), run('a', 1, 1), run('b', 2, 1)]
    expect(recentRuns(runs, 2).map(r => r.id)).toEqual(['b', 'c'])
  })
})

describe('capability metrics', () => {
  it('offload families carry the served counters by where, and latency by quantile', () => {
    const families = offloadMetrics({ servedLocally: 1, servedRemotely: 2, servedForPeers: 3, failed: 4, byPeer: {}, p50Ms: 5, p99Ms: 6, queueDepth: 7, inFlight: 8, capacity: 9 })
    const served = families.find(f => f.name === 'edge_mesh_infer_served_total')
    expect(served?.samples).toEqual([
      { labels: { where: 'local' }, value: 1 }, { labels: { where: 'remote' }, value: 2 }, { labels: { where: 'for_peers' }, value: 3 }
    ])
    expect(families.find(f => f.name === 'edge_mesh_infer_latency_ms')?.samples.map(s => s.labels?.quantile)).toEqual(['0.5', '0.99'])
  })

  it('offload families count what the inbound infer handlers refused, cancelled and aborted', () => {
    const stats = { servedLocally: 0, servedRemotely: 0, servedForPeers: 0, failed: 0, byPeer: {}, p50Ms: 0, p99Ms: 0, queueDepth: 0, inFlight: 0, capacity: 1 }
    expect(offloadMetrics(stats).some(f => f.name.startsWith('edge_mesh_infer_inbound'))).toBe(false)
    const families = offloadMetrics({ ...stats, inbound: { errorReplies: 5, malformed: 3, abusers: 1, cancelled: 2, aborted: 4 } })
    const value = (name: string): number | undefined => families.find(f => f.name === name)?.samples[0]?.value
    expect(families.find(f => f.name === 'edge_mesh_infer_inbound_refused_total')?.samples).toEqual([
      { labels: { reason: 'error_reply' }, value: 5 }, { labels: { reason: 'malformed' }, value: 3 }
    ])
    expect(value('edge_mesh_infer_abusive_peers_total')).toBe(1)
    expect(value('edge_mesh_infer_inbound_cancelled_total')).toBe(2)
    expect(value('edge_mesh_infer_inbound_streams_aborted_total')).toBe(4)
  })

  it('federated gauges describe the latest run; runs are counted by state', () => {
    const families = federatedMetrics([run('old', 1, 5), run('new', 2, 2, 'running')])
    const value = (name: string): number | undefined => families.find(f => f.name === name)?.samples[0]?.value
    expect(value('edge_mesh_fed_round')).toBe(2)
    expect(value('edge_mesh_fed_accuracy')).toBe(stubRound(2).accuracy)
    expect(value('edge_mesh_fed_loss')).toBe(stubRound(2).loss)
    const byState = families.find(f => f.name === 'edge_mesh_fed_runs')?.samples
    expect(byState).toContainEqual({ labels: { state: 'running' }, value: 1 })
    expect(byState).toContainEqual({ labels: { state: 'completed' }, value: 1 })
  })

  it('a node with no run has the run counts but no round, accuracy or loss sample', () => {
    const families = federatedMetrics([])
    expect(families.find(f => f.name === 'edge_mesh_fed_round')?.samples).toEqual([])
    expect(families.find(f => f.name === 'edge_mesh_fed_runs')?.samples.every(s => s.value === 0)).toBe(true)
  })
})

describe('dashboard routes of the control API', () => {
  let api: ControlApi | undefined
  afterEach(async () => { await api?.stop() })

  it('serves the page and assets, and refuses other file names', async () => {
    api = await startStubApi(stubState())
    expect((await fetch(`${api.url}/`)).headers.get('content-type')).toContain('text/html')
    expect((await fetch(`${api.url}/dashboard/dashboard.css`)).headers.get('content-type')).toContain('text/css')
    for (const bad of ['/dashboard/..%2Fserver.ts', '/dashboard/nope.js', '/dashboard/sub/dashboard.js']) {
      const res = await fetch(`${api.url}${bad}`)
      expect(res.status).toBe(404)
      expect((await res.json()).error.name).toBe('RouteNotFoundError')
    }
  })

  it('/metrics has no capability families without the capabilities, and has them with', async () => {
    const state = stubState()
    api = await startStubApi(state)
    const before = await (await fetch(`${api.url}/metrics`)).text()
    expect(before).not.toContain('edge_mesh_infer_')
    expect(before).not.toContain('edge_mesh_fed_')
    state.offload = { servedLocally: 3, servedRemotely: 0, servedForPeers: 0, failed: 0, byPeer: {}, p50Ms: 1, p99Ms: 2, queueDepth: 0, inFlight: 0, capacity: 2 }
    state.runs = [run('r', 1, 2)]
    const after = await (await fetch(`${api.url}/metrics`)).text()
    expect(after).toContain('edge_mesh_infer_served_total{where="local"} 3')
    expect(after).toContain('edge_mesh_fed_round 2')
  })

  it('/events sends a snapshot at once, then one per second', async () => {
    const state = stubState()
    state.peers.set('peer-a', { report: stubReport('a', 1), connected: true })
    api = await startStubApi(state)
    const controller = new AbortController()
    const res = await fetch(`${api.url}/events`, { signal: controller.signal })
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
    let text = ''
    const started = Date.now()
    while ((text.match(/event: snapshot\ndata: .*\n\n/g) ?? []).length < 2) text += (await reader.read()).value ?? ''
    controller.abort()
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    const snapshot = JSON.parse(/data: (.*)\n/.exec(text)![1])
    expect(snapshot.status.peerId).toBe(STUB_SELF)
    expect(snapshot.offload).toBeNull()
    expect(snapshot.federated).toEqual([])
    expect(snapshot.topology.links).toEqual([[STUB_SELF, 'peer-a']])
    expect(snapshot.fleet.nodes.map((n: any) => n.peerId)).toEqual([STUB_SELF, 'peer-a'])
  })
})
