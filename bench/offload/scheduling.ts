/**
 * Phase 2, scheduling under skew. Four serving processes (`capacity` 1, no
 * batching), each emulating a device with a fixed service time of
 * `serviceMs`, the last one `slowdown` times slower (see `SCHEDULING`). The
 * cluster's capacity is therefore known exactly (the sum of each peer's
 * 1000 / serviceMs).
 * For each policy (random, round robin, least-outstanding-requests and the
 * edge-mesh scheduler `p2c`), a model-less requester in this process sends
 * Poisson arrivals at `loadFraction` of that capacity with `prefer: 'remote'`,
 * so all work goes to the four peers. The policies run in rotating order with
 * identical arrival times within a round.
 * Everything but the choice (retries, backoff, hedging, deadlines) is the same
 * offload client.
 */
import { DEADLINE_MS, MODEL_ID, SCHEDULING } from './constants.js'
import { benchInput, startInProcessNode, waitForPeers } from './driver.js'
import { openLoop, round2, seeded, summary } from './stats.js'
import { median, round3 } from '../shared/stats.js'
import type { InProcessNode } from './driver.js'
import type { Processes } from './processes.js'
import type { TensorData } from '../../src/model/types.js'
import type { SchedulingPolicy } from '../../src/offload/index.js'

export interface PolicyResult {
  p50: number
  p99: number
  /** Requests answered / requests sent. */
  success: number
  requests: number
  /** Share of answers served by the slow peer. */
  slowShare: number
  /** Share of requests that needed more than one attempt (retries or hedges). */
  retried: number
  /** p99 of the time answered requests waited in a peer's queue (reported by the peer), ms. */
  queueP99: number
  /** p99 of each round's segment, ms: how much the machine's noise moved it. */
  roundP99: number[]
}

export interface SchedulingResult {
  /** The cluster's nominal capacity (sum of each peer's 1000 / service time), req/s. */
  capacityRps: number
  /** Poisson rate offered (loadFraction of the capacity), req/s. */
  offeredRps: number
  random: PolicyResult
  roundRobin: PolicyResult
  leastOutstanding: PolicyResult
  edgeMesh: PolicyResult
  /**
   * Each round is one run (every policy on the same arrivals, back to back):
   * the scheduler's p99 over random's and over least-outstanding's in that round.
   */
  runs: Array<{ vsRandom: number, vsLeastOutstanding: number }>
  /** Medians over the runs. */
  median: { vsRandom: number, vsLeastOutstanding: number }
  settings: typeof SCHEDULING
}

const POLICIES: SchedulingPolicy[] = ['random', 'round-robin', 'least-outstanding', 'p2c']

/** What a policy's segments collected. */
export interface Tally { latencies: number[], queueMs: number[], roundP99: number[], sent: number, ok: number, slow: number, retried: number }

export function emptyTally (): Tally {
  return { latencies: [], queueMs: [], roundP99: [], sent: 0, ok: 0, slow: 0, retried: 0 }
}

/** One open-loop segment of `prefer: 'remote'` requests for `modelId` at `rate`; adds to `tally` when given. */
export async function segment (node: InProcessNode, inputs: TensorData[], rate: number, ms: number, seed: number, slowPeer: string, tally?: Tally,
  modelId = MODEL_ID, deadlineMs = DEADLINE_MS): Promise<void> {
  await openLoop(rate, ms, seeded(seed), async () => {
    const startedAt = performance.now()
    if (tally != null) tally.sent++
    try {
      const result = await node.offload.infer(modelId, inputs, { prefer: 'remote', deadlineMs })
      if (tally == null) return
      tally.latencies.push(performance.now() - startedAt)
      tally.queueMs.push(result.latencyMs.queueMs)
      tally.ok++
      if (result.servedBy === slowPeer) tally.slow++
      if (result.attempts > 1) tally.retried++
    } catch {}
  })
}

export function report (t: Tally): PolicyResult {
  const { p50, p99 } = summary(t.latencies)
  return { p50, p99, success: Math.round(t.ok / t.sent * 10_000) / 10_000, requests: t.sent, slowShare: round2(t.slow / Math.max(1, t.ok)), retried: round2(t.retried / t.sent), queueP99: summary(t.queueMs).p99, roundP99: t.roundP99 }
}

/** p2c's p99 over random's and over least-outstanding's in each round, and their medians. */
export function roundRatios (tallies: ReadonlyMap<SchedulingPolicy, Tally>, rounds: number): Pick<SchedulingResult, 'runs' | 'median'> {
  const p99Of = (policy: SchedulingPolicy, round: number): number => tallies.get(policy)!.roundP99[round]
  const runs = Array.from({ length: rounds }, (_, round) => ({
    vsRandom: round3(p99Of('p2c', round) / p99Of('random', round)),
    vsLeastOutstanding: round3(p99Of('p2c', round) / p99Of('least-outstanding', round))
  }))
  return { runs, median: { vsRandom: round3(median(runs.map(r => r.vsRandom))), vsLeastOutstanding: round3(median(runs.map(r => r.vsLeastOutstanding))) } }
}

export async function measureScheduling (processes: Processes, progress: (line: string) => void): Promise<SchedulingResult> {
  const input = await benchInput()
  const serviceMsOf = (i: number): number => SCHEDULING.serviceMs * (i === SCHEDULING.peers - 1 ? SCHEDULING.slowdown : 1)
  // Start-up is not measured: the peers and the requesters start side by side.
  const peers = await Promise.all(Array.from({ length: SCHEDULING.peers }, async (_, i) => {
    const slow = i === SCHEDULING.peers - 1
    return await processes.serving(slow ? 'skew-slow' : `skew-${i}`, {
      capacity: SCHEDULING.capacity, maxQueue: SCHEDULING.maxQueue, batching: false, serviceMs: serviceMsOf(i)
    })
  }))
  const slowPeer = peers[peers.length - 1].node.peerId
  const addresses = peers.map(p => p.address)
  const requesters = new Map<SchedulingPolicy, InProcessNode>()
  try {
    await Promise.all(POLICIES.map(async policy => {
      const node = await startInProcessNode({ policy, peers: addresses })
      requesters.set(policy, node)
      await waitForPeers(node, peers.map(p => p.node.peerId))
    }))

    const capacityRps = peers.reduce((sum, _, i) => sum + SCHEDULING.capacity * 1000 / serviceMsOf(i), 0)
    const rate = Math.round(capacityRps * SCHEDULING.loadFraction)
    for (const policy of POLICIES) {
      progress(`scheduling: warm-up ${policy} at ${rate} req/s`)
      await segment(requesters.get(policy)!, [input], rate, SCHEDULING.warmupMs, SCHEDULING.seed - 1, slowPeer)
    }
    const tallies = new Map(POLICIES.map(p => [p, emptyTally()]))
    for (let round = 0; round < SCHEDULING.rounds; round++) {
      progress(`scheduling: round ${round + 1}/${SCHEDULING.rounds}: capacity ${capacityRps} req/s, offering ${rate} req/s (Poisson)`)
      const order = POLICIES.map((_, i) => POLICIES[(i + round) % POLICIES.length])
      for (const policy of order) {
        const tally = tallies.get(policy)!
        const before = tally.latencies.length
        await segment(requesters.get(policy)!, [input], rate, SCHEDULING.segmentMs, SCHEDULING.seed + round, slowPeer, tally)
        tally.roundP99.push(summary(tally.latencies.slice(before)).p99)
        progress(`scheduling: round ${round + 1}/${SCHEDULING.rounds} ${policy}: ${tally.roundP99[round]} ms p99`)
      }
    }
    return {
      capacityRps,
      offeredRps: rate,
      ...roundRatios(tallies, SCHEDULING.rounds),
      random: report(tallies.get('random')!),
      roundRobin: report(tallies.get('round-robin')!),
      leastOutstanding: report(tallies.get('least-outstanding')!),
      edgeMesh: report(tallies.get('p2c')!),
      settings: SCHEDULING
    }
  } finally {
    for (const node of requesters.values()) await node.stop()
    await processes.stopAll()
  }
}
