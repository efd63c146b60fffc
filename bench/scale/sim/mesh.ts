/**
 * A discrete-event simulation of one mesh, driven by the real pure code of
 * edge-mesh: the gossip cadence (`src/gossip/cadence.ts`: when a node sends a
 * heartbeat or a change report, and how long receivers keep it), the load
 * table (`applyReport`, `expireEntries`, `liveEntries`), the candidate list
 * (`buildCandidates`), the scheduler and its baselines (`chooseByPolicy`) and the peak-EWMA
 * latency estimate (`observeLatency`, `currentLatency`).
 *
 * What is simulated instead of run: time (an event queue), the network (a
 * fixed one-way delay; a gossiped report reaches every node after
 * `networkMs` per gossipsub hop, about log6(N) hops), and the serving nodes
 * (`capacity` slots and a FIFO queue each, with a fixed service time; a
 * `slowFraction` of them `slowdown` times slower: the skew).
 *
 * `knowledge: 'gossip'` gives the scheduler what a node knows: the load table
 * that gossip built, the loads its peers answered with (`serverLoad`), its own
 * requests (the node's `LoadEstimator`), and, before power of two choices, a
 * load probe of the two sampled peers whose figures are old (as the node's
 * `/edge-mesh/load-probe/1.0.0`; `probe: false` leaves it out, a design study);
 * `knowledge: 'full'` gives it every peer's true load at the instant of the
 * choice (and sends no gossip): the reference the gossip's p99 is compared with.
 * Requesters send Poisson arrivals with `prefer: 'remote'`.
 */
import { changeMagnitude, changeWaitMs, entryTtlMs, heartbeatDue, heartbeatIntervalMs } from '../../../src/gossip/cadence.js'
import { applyReport, emptyLoadTable, expireEntries, liveEntries } from '../../../src/gossip/load-table.js'
import { mulberry32 } from '../../../src/model/random.js'
import { buildCandidates } from '../../../src/offload/candidates.js'
import { currentLatency, observeLatency } from '../../../src/offload/latency.js'
import { LoadEstimator } from '../../../src/offload/load-estimate.js'
import { chooseByPolicy, INITIAL_POLICY_STATE } from '../../../src/offload/policy.js'
import { samplePair } from '../../../src/offload/scheduler.js'
import { DEFAULT_EWMA_TAU_MS, DEFAULT_PRIOR_LATENCY_MS, DEFAULT_PROBE_AFTER_MS } from '../../../src/offload/scheduler-constants.js'
import { EventQueue } from './events.js'
import type { CadenceSettings } from '../../../src/gossip/cadence.js'
import type { LoadTable } from '../../../src/gossip/load-table.js'
import type { LoadReport, LocalWork, PeerLoad } from '../../../src/gossip/types.js'
import type { PeakEwma } from '../../../src/offload/latency.js'
import type { PolicyState, SchedulingPolicy } from '../../../src/offload/policy.js'
import type { Candidate, SchedulerConfig, SchedulerStats } from '../../../src/offload/scheduler.js'

export interface MeshSimInit {
  nodes: number
  /**
   * What the scheduler knows of its peers' load: `gossip`, the load table that
   * gossip built; `full`, every peer's true load at the instant of the choice
   * (the reference; no gossip sent).
   */
  knowledge: 'gossip' | 'full'
  /** Who chooses. @default 'p2c' */
  policy?: SchedulingPolicy
  /**
   * When set, the last this many nodes only send requests (they serve none
   * and do not count in the capacity), as in the scheduling benchmark; else
   * every node serves and `requesterFraction` of them also send.
   */
  dedicatedRequesters?: number
  durationMs: number
  warmupMs: number
  requesterFraction: number
  loadFraction: number
  slowFraction: number
  slowdown: number
  serviceMs: number
  capacity: number
  networkMs: number
  cadence: CadenceSettings
  expiryIntervals: number
  seed: number
  /** Answers carry the server's load (`serverLoad`) and the client observes it. @default true */
  piggyback?: boolean
  /** With gossip, the client probes the sampled peers whose figures are old, as the node does. @default true */
  probe?: boolean
  /** Figures older than this are probed, ms. @default DEFAULT_PROBE_AFTER_MS */
  probeAfterMs?: number
  /** The load estimate's fade time constant, ms. @default DEFAULT_LOAD_FADE_MS */
  fadeMs?: number
  /** Scheduler settings over the defaults (design studies). */
  scheduler?: Partial<SchedulerConfig>
}

export interface MeshSimResult {
  /** Reports delivered per node per simulated second after the warm-up (0 with full knowledge). */
  messagesPerNodePerSecond: number
  /** Load probe questions and answers received per node per simulated second. */
  probesPerNodePerSecond: number
  p50: number
  p99: number
  /** Requests answered after the warm-up. */
  requests: number
  /** Share of them served by a slow node. */
  slowShare: number
}

const MODEL = 'm'
const MAX_SKEW_MS = 60_000

interface SimNode {
  id: string
  serviceMs: number
  slow: boolean
  running: number
  queue: Array<(load: number) => void>
  table: LoadTable
  seq: number
  lastPublishAt: number
  lastReport?: LoadReport
  lastPublishedWork?: LocalWork
  changeDue?: number
  received: number
  outstanding: Map<string, number>
  latency: Map<string, PeakEwma>
  probes: number
  policyState: PolicyState
  /** The requester's load view beyond gossip: answered loads and its own requests (the node's `LoadEstimator`). */
  estimate: LoadEstimator
}

function workOf (node: SimNode, capacity: number): LocalWork {
  return { inFlight: node.running, queued: node.queue.length, capacity, training: false, canTrain: false, models: [MODEL] }
}

function reportOf (node: SimNode, work: LocalWork, now: number, intervalMs: number): LoadReport {
  return {
    seq: ++node.seq, timestamp: now, cpu: 0, memFree: 0, inFlight: work.inFlight, queued: work.queued, capacity: work.capacity,
    intervalMs, backend: 'sim', models: work.models, training: false, canTrain: false, role: 'edge', name: '', addrs: []
  }
}

/** Run one simulation. Deterministic for a given `init`. */
export function simulateMesh (init: MeshSimInit): MeshSimResult {
  const q = new EventQueue()
  const random = mulberry32(init.seed)
  const slowCount = Math.round(init.nodes * init.slowFraction)
  const nodes: SimNode[] = Array.from({ length: init.nodes }, (_, i) => ({
    id: `n${String(i).padStart(4, '0')}`,
    serviceMs: init.serviceMs * (i < slowCount ? init.slowdown : 1),
    slow: i < slowCount,
    running: 0,
    queue: [],
    table: emptyLoadTable(),
    seq: 0,
    lastPublishAt: -Infinity,
    received: 0,
    outstanding: new Map(),
    latency: new Map(),
    probes: 0,
    policyState: INITIAL_POLICY_STATE,
    estimate: new LoadEstimator({ fadeMs: init.fadeMs })
  }))
  const byId = new Map(nodes.map(n => [n.id, n]))
  const ttl = (entry: PeerLoad): number => entryTtlMs(entry, init.cadence, init.expiryIntervals)
  const hops = Math.max(1, Math.ceil(Math.log(init.nodes) / Math.log(6)))
  const gossip = init.knowledge !== 'full'
  const meshSize = (n: SimNode): number => n.table.entries.size + 1
  const latencies: number[] = []
  let slowServed = 0

  const publish = (node: SimNode): void => {
    const work = workOf(node, init.capacity)
    const report = reportOf(node, work, q.now, heartbeatIntervalMs(init.cadence, meshSize(node)))
    node.lastPublishAt = q.now
    node.lastReport = report
    node.lastPublishedWork = work
    node.changeDue = undefined
    for (const other of nodes) {
      if (other === node) continue
      q.after(init.networkMs * hops, () => {
        if (q.now >= init.warmupMs) other.received++
        other.table = applyReport(other.table, node.id, report, q.now, MAX_SKEW_MS).table
      })
    }
  }

  const workChanged = (node: SimNode): void => {
    if (!gossip || node.lastPublishedWork == null) return
    const magnitude = changeMagnitude(node.lastPublishedWork, workOf(node, init.capacity))
    if (magnitude < 1) return
    const due = q.now + changeWaitMs(init.cadence, meshSize(node), node.lastPublishAt, q.now)
    if (node.changeDue != null && node.changeDue <= due) return
    node.changeDue = due
    q.after(due - q.now, () => {
      if (node.changeDue !== due) return
      node.changeDue = undefined
      publish(node)
    })
  }

  const tick = (node: SimNode): void => {
    node.table = expireEntries(node.table, q.now, ttl).table
    const announced = node.lastReport?.intervalMs ?? init.cadence.intervalMs
    if (heartbeatDue(init.cadence, meshSize(node), node.lastPublishAt, announced, q.now)) publish(node)
    q.after(init.cadence.intervalMs, () => { tick(node) })
  }

  const start = (server: SimNode, done: (load: number) => void): void => {
    server.running++
    q.after(server.serviceMs, () => {
      server.running--
      // The load the answer carries: the server's work as it replies, this request no longer counted.
      done(server.running + server.queue.length)
      const next = server.queue.shift()
      if (next != null) start(server, next)
      workChanged(server)
    })
  }

  const send = (client: SimNode, server: SimNode): void => {
    const sentAt = q.now
    client.outstanding.set(server.id, (client.outstanding.get(server.id) ?? 0) + 1)
    const answered = client.estimate.sent(server.id, q.now)
    q.after(init.networkMs, () => {
      const done = (load: number): void => {
        q.after(init.networkMs, () => {
          // As the node's tracked remote invoker does: the answer's server load, then the request's end.
          if (init.piggyback !== false) client.estimate.observeLoad(server.id, { outstanding: load, capacity: init.capacity }, q.now)
          answered(q.now)
          const n = (client.outstanding.get(server.id) ?? 1) - 1
          if (n <= 0) client.outstanding.delete(server.id)
          else client.outstanding.set(server.id, n)
          client.latency.set(server.id, observeLatency(client.latency.get(server.id), q.now - sentAt, q.now, DEFAULT_EWMA_TAU_MS))
          if (sentAt >= init.warmupMs) {
            latencies.push(q.now - sentAt)
            if (server.slow) slowServed++
          }
        })
      }
      if (server.running < init.capacity) start(server, done)
      else server.queue.push(done)
      workChanged(server)
    })
  }

  const trueLoad = (n: SimNode): PeerLoad => ({ peerId: n.id, receivedAt: q.now, report: reportOf(n, workOf(n, init.capacity), q.now, init.cadence.intervalMs) })
  const truePeers = (client: SimNode): PeerLoad[] => nodes.filter(n => n !== client).map(trueLoad)

  /**
   * As the node's client does: the two peers the scheduler would compare
   * (`samplePair`); those whose figure is older than `probeAfterMs` are asked
   * for their load (one round trip; the answer is observed like a piggybacked
   * load), then the choice is made among the two.
   */
  const probeAndChoose = (client: SimNode): void => {
    const peers = client.estimate.estimate(liveEntries(client.table, q.now, ttl), q.now)
    const candidates = buildCandidates({ modelId: MODEL, selfId: client.id, local: workOf(client, init.capacity), localHasModel: true, canFetch: false, peers, now: q.now })
    const sampled = samplePair(candidates, statsOf(client, candidates), random)
    if (sampled.length === 0) { choose(client, peers); return }
    const among = new Set(sampled.map(c => c.peerId))
    // The pair as estimated before the probe; a probed peer's figure is then replaced by its answer (0 ms old, so unfaded).
    const pairBefore = peers.filter(p => among.has(p.peerId))
    const restricted = (): PeerLoad[] => pairBefore.map(p => {
      const entry = client.table.entries.get(p.peerId)
      return entry != null && client.estimate.observation(p.peerId)?.atMs === q.now ? client.estimate.estimate([entry])[0] : p
    })
    const stale = sampled.filter(c => (c.ageMs ?? 0) > (init.probeAfterMs ?? DEFAULT_PROBE_AFTER_MS)).map(c => byId.get(c.peerId)!)
    if (stale.length === 0) { choose(client, restricted()); return }
    for (const peer of stale) if (q.now >= init.warmupMs) peer.probes++
    q.after(init.networkMs, () => {
      const answers = stale.map(peer => ({ id: peer.id, outstanding: peer.running + peer.queue.length }))
      q.after(init.networkMs, () => {
        if (q.now >= init.warmupMs) client.probes += answers.length
        for (const a of answers) client.estimate.observeLoad(a.id, { outstanding: a.outstanding, capacity: init.capacity }, q.now)
        choose(client, restricted())
      })
    })
  }

  const statsOf = (client: SimNode, candidates: Candidate[]): SchedulerStats => {
    const latencyMs = new Map(candidates.map(c => [c.peerId, currentLatency(client.latency.get(c.peerId), q.now, DEFAULT_EWMA_TAU_MS, DEFAULT_PRIOR_LATENCY_MS)]))
    return { latencyMs, outstanding: client.outstanding, backedOff: new Set<string>(), tried: new Set<string>(), prefer: 'remote' as const, config: init.scheduler }
  }

  const arrive = (client: SimNode): void => {
    if (gossip && init.probe !== false && (init.policy ?? 'p2c') === 'p2c') { probeAndChoose(client); return }
    // Full knowledge goes through the same estimate: a true figure taken now, minus this client's share of it.
    choose(client, client.estimate.estimate(gossip ? liveEntries(client.table, q.now, ttl) : truePeers(client), q.now))
  }

  const choose = (client: SimNode, peers: PeerLoad[]): void => {
    const candidates = buildCandidates({ modelId: MODEL, selfId: client.id, local: workOf(client, init.capacity), localHasModel: true, canFetch: false, peers, now: q.now })
    const { choice, state } = chooseByPolicy(init.policy ?? 'p2c', candidates, statsOf(client, candidates), random, client.policyState)
    client.policyState = state
    if (choice != null && !choice.candidate.local) send(client, byId.get(choice.candidate.peerId)!)
  }

  /**
   * Start as a mesh that has been running: every node sent its last heartbeat
   * at a random time within one heartbeat interval of this mesh size, and every
   * other node holds that report. (Started empty, the first reports announce
   * the interval of a one-node mesh and expire long before the next heartbeat
   * of a large mesh, so a run of seconds would measure that start-up.)
   */
  const steadyState = (): void => {
    const interval = heartbeatIntervalMs(init.cadence, init.nodes)
    const held: PeerLoad[] = []
    for (const node of nodes) {
      const at = -random() * interval
      const report = { ...reportOf(node, workOf(node, init.capacity), at, interval), timestamp: at }
      node.lastPublishAt = at
      node.lastReport = report
      node.lastPublishedWork = workOf(node, init.capacity)
      held.push({ peerId: node.id, report, receivedAt: at })
    }
    // What `applyReport` of each report into each empty table gives (every one accepted: one report per peer,
    // none from the future), built once per table rather than copying the table N times: O(N²), not O(N³).
    for (const other of nodes) other.table = { entries: new Map(held.filter(e => e.peerId !== other.id).map(e => [e.peerId, e])) }
  }

  const dedicated = init.dedicatedRequesters ?? 0
  const servers = nodes.slice(0, nodes.length - dedicated)
  const capacityRps = servers.reduce((sum, n) => sum + init.capacity * 1000 / n.serviceMs, 0)
  const requesters = dedicated > 0 ? nodes.slice(nodes.length - dedicated) : nodes.filter((_, i) => random() < init.requesterFraction || i === nodes.length - 1)
  const ratePerRequester = capacityRps * init.loadFraction / requesters.length
  const nextArrival = (client: SimNode): void => {
    q.after(-Math.log(1 - random()) / ratePerRequester * 1000, () => {
      arrive(client)
      nextArrival(client)
    })
  }
  if (gossip) steadyState()
  for (const node of nodes) {
    if (gossip) q.after(random() * init.cadence.intervalMs, () => { tick(node) })
  }
  for (const client of requesters) nextArrival(client)
  q.runUntil(init.durationMs)

  const sorted = latencies.sort((a, b) => a - b)
  const at = (p: number): number => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]
  const seconds = (init.durationMs - init.warmupMs) / 1000
  return {
    messagesPerNodePerSecond: nodes.reduce((sum, n) => sum + n.received, 0) / nodes.length / seconds,
    probesPerNodePerSecond: nodes.reduce((sum, n) => sum + n.probes, 0) / nodes.length / seconds,
    p50: at(0.5),
    p99: at(0.99),
    requests: sorted.length,
    slowShare: slowServed / Math.max(1, sorted.length)
  }
}
