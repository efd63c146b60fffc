/**
 * Where one attempt of a request runs, as a pure function
 * `(candidates, stats, random) => choice`.
 *
 * **Cost.** A candidate's cost estimates how long a new request would take there:
 *
 * ```
 * cost = latency * (1 + load / capacity) * (1 + cpuWeight * cpu) * (training ? trainingFactor : 1)
 *        + (hasModel ? 0 : fetchPenaltyMs)
 * ```
 *
 * where `latency` is this node's peak-EWMA estimate of the candidate (the prior
 * when it has no sample), and `load = inFlight + queued + outstanding`: the
 * gossiped work plus the requests this node has outstanding there, which gossip
 * does not show yet (this node's own counters are live, so for it the larger of
 * the two counts: a burst chosen in one tick has not reached the engine yet). Adding both counts some of our own requests twice; it is
 * deliberately conservative, so that many clients reading the same gossip do
 * not herd onto the same idle peer. With capacity 1 the load term is the
 * `(pending + 1)` of linkerd's peak-EWMA balancer; with capacity `c` load is
 * counted in units of `c` slots (a request waits about one service time per `c`
 * requests ahead of it), so a four-slot node with four requests costs what a
 * one-slot node with one does.
 *
 * **Choice.** Candidates in backoff are skipped (this node never is). Candidates
 * already tried for this request are skipped unless none is left. Then:
 * 1. the local node is kept when it has a free slot and costs at most
 *    `localBias` times the cheapest peer (no network hop, no serialisation);
 * 2. otherwise two candidates that hold the model are sampled and the cheaper
 *    one wins (power of two choices: near-best balance, no herding on stale data);
 * 3. a candidate that would first have to fetch the model is chosen only when no
 *    holder is eligible, or when the chosen holder is saturated (no free slot)
 *    and a fetcher is cheaper, fetch penalty included. So models spread to more
 *    peers only under overload.
 *
 * **Preference.** `local`: only this node. `remote`: only peers; this node is
 * used as the last resort when no peer is eligible (none known, all in backoff,
 * or all already failed this request), so a request is not lost because of a
 * preference. `auto`: everyone, as above.
 */
import {
  DEFAULT_CPU_WEIGHT, DEFAULT_FETCH_PENALTY_MS, DEFAULT_FRESH_MS, DEFAULT_FULL_SCAN_MAX, DEFAULT_LOCAL_BIAS, DEFAULT_MIN_FRESH,
  DEFAULT_PRIOR_LATENCY_MS, DEFAULT_TRAINING_FACTOR
} from './scheduler-constants.js'
import type { Preference } from './types.js'

/** A node that could run a request. */
export interface Candidate {
  peerId: string
  /** This node. */
  local: boolean
  /** It holds the model now; `false` means it would fetch the model first. */
  hasModel: boolean
  /** Requests running there (gossiped, or live for this node). */
  inFlight: number
  /** Requests waiting there. */
  queued: number
  /** Concurrent requests it runs. */
  capacity: number
  /** CPU utilisation, 0..1. */
  cpu: number
  /** It is training a federated round. */
  training: boolean
  /** Age of its load figures (gossip or a newer observation), ms; absent for live figures (this node). */
  ageMs?: number
}

export interface SchedulerConfig {
  /** Latency of a candidate with no sample, ms. @default 50 */
  priorLatencyMs: number
  /** Added to the cost of a candidate without the model, ms. @default 2000 */
  fetchPenaltyMs: number
  /** Cost multiplier while training. @default 2 */
  trainingFactor: number
  /** Cost multiplier per unit of CPU utilisation. @default 0.5 */
  cpuWeight: number
  /** An idle local node is kept up to this multiple of the cheapest peer's cost. @default 1.25 */
  localBias: number
  /** A load figure at most this old is fresh, ms (see `freshPool`). @default 1000 */
  freshMs: number
  /** Sample only among fresh holders when at least this many are eligible; 0 turns the preference off. @default 4 */
  minFresh: number
  /** With at most this many holders, compare them all instead of sampling two. @default 8 */
  fullScanMax: number
}

export const DEFAULT_SCHEDULER_CONFIG: Readonly<SchedulerConfig> = Object.freeze({
  priorLatencyMs: DEFAULT_PRIOR_LATENCY_MS,
  fetchPenaltyMs: DEFAULT_FETCH_PENALTY_MS,
  trainingFactor: DEFAULT_TRAINING_FACTOR,
  cpuWeight: DEFAULT_CPU_WEIGHT,
  localBias: DEFAULT_LOCAL_BIAS,
  freshMs: DEFAULT_FRESH_MS,
  minFresh: DEFAULT_MIN_FRESH,
  fullScanMax: DEFAULT_FULL_SCAN_MAX
})

/** What this node knows beyond the candidates' own reports. */
export interface SchedulerStats {
  /** Peak-EWMA latency per peer id as of now, ms; a missing entry means the prior. */
  latencyMs: ReadonlyMap<string, number>
  /** This node's requests outstanding per peer id (ignored for the local candidate, whose counters are live). */
  outstanding: ReadonlyMap<string, number>
  /** Peers in backoff. */
  backedOff: ReadonlySet<string>
  /** Peers already tried (or running) for this request. */
  tried: ReadonlySet<string>
  /** @default 'auto' */
  prefer?: Preference
  config?: Partial<SchedulerConfig>
}

export type ChoiceReason = 'local-idle' | 'only' | 'p2c' | 'fetch' | 'fallback' | 'random' | 'round-robin' | 'pull' | 'least-outstanding'

export interface Choice {
  candidate: Candidate
  cost: number
  reason: ChoiceReason
}

/** A number in [0, 1), like `Math.random`. */
export type Random = () => number

/**
 * Requests at `c`: its reported work plus, for a peer, this node's requests gossip does not show yet.
 * For this node, the larger of its live counters and its own outstanding attempts: an attempt reaches
 * the engine a microtask after it is chosen, so requests chosen in the same tick (a burst sent with
 * `Promise.all`) are not in the live counters yet, and would otherwise all see an idle node.
 */
function loadOf (c: Candidate, outstanding: ReadonlyMap<string, number>): number {
  const reported = Math.max(0, c.inFlight) + Math.max(0, c.queued)
  const mine = outstanding.get(c.peerId) ?? 0
  return c.local ? Math.max(reported, mine) : reported + mine
}

/** The estimated cost of running one more request on `c`. */
export function candidateCost (c: Candidate, stats: Pick<SchedulerStats, 'latencyMs' | 'outstanding'>, config: SchedulerConfig = DEFAULT_SCHEDULER_CONFIG): number {
  const latency = stats.latencyMs.get(c.peerId) ?? config.priorLatencyMs
  const load = loadOf(c, stats.outstanding)
  const cpu = Math.min(1, Math.max(0, c.cpu))
  const factor = (1 + load / Math.max(1, c.capacity)) * (1 + config.cpuWeight * cpu) * (c.training ? config.trainingFactor : 1)
  return latency * factor + (c.hasModel ? 0 : config.fetchPenaltyMs)
}

/** True when `c` already holds `perSlot` requests per execution slot, so a new one would only wait there. */
export function isSaturated (c: Candidate, outstanding: ReadonlyMap<string, number>, perSlot: number): boolean {
  return perSlot > 0 && loadOf(c, outstanding) >= perSlot * Math.max(1, c.capacity)
}

/** True when `c` would start a new request at once. */
export function hasFreeSlot (c: Candidate, outstanding: ReadonlyMap<string, number>): boolean {
  return loadOf(c, outstanding) < Math.max(1, c.capacity)
}

/** Candidates allowed by the preference; `usable` says whether a peer is neither in backoff nor already tried. */
function byPreference (candidates: Candidate[], prefer: Preference, usable: (peer: Candidate) => boolean): { pool: Candidate[], fallback: boolean } {
  if (prefer === 'local') return { pool: candidates.filter(c => c.local), fallback: false }
  if (prefer === 'remote') {
    const peers = candidates.filter(c => !c.local)
    const self = candidates.filter(c => c.local)
    if (peers.some(usable) || self.length === 0) return { pool: peers, fallback: false }
    return { pool: self, fallback: true }
  }
  return { pool: candidates, fallback: false }
}

/** Drop candidates in backoff; drop tried ones unless nothing else is left. */
function eligible (pool: Candidate[], stats: SchedulerStats): Candidate[] {
  const live = pool.filter(c => c.local || !stats.backedOff.has(c.peerId))
  const fresh = live.filter(c => !stats.tried.has(c.peerId))
  return fresh.length > 0 ? fresh : live
}

/** Sample two distinct candidates and keep the cheaper (the first on a tie). */
function powerOfTwo (pool: Candidate[], cost: (c: Candidate) => number, random: Random): Candidate {
  if (pool.length === 1) return pool[0]
  const i = Math.min(pool.length - 1, Math.floor(random() * pool.length))
  let j = Math.min(pool.length - 2, Math.floor(random() * (pool.length - 1)))
  if (j >= i) j++
  return cost(pool[j]) < cost(pool[i]) ? pool[j] : pool[i]
}

/** The cheapest candidate; a random one among ties (list order must not decide: it favours whoever reported first). */
function cheapest (pool: Candidate[], cost: (c: Candidate) => number, random: Random): Candidate {
  const costs = pool.map(cost)
  const least = Math.min(...costs)
  const ties = pool.filter((_, i) => costs[i] === least)
  return ties[Math.min(ties.length - 1, Math.floor(random() * ties.length))]
}

/**
 * The holders to sample from: those whose load figure is fresh (at most
 * `freshMs` old: this node itself, peers that answered it lately, peers whose
 * report just arrived) when at least `minFresh` are, else all. A stale figure
 * says "idle" about a peer every other client may be filling too; fresh ones
 * are what the choice can trust.
 */
function freshPool (holders: Candidate[], config: SchedulerConfig): Candidate[] {
  if (config.minFresh <= 0) return holders
  const fresh = holders.filter(c => (c.ageMs ?? 0) <= config.freshMs)
  return fresh.length >= config.minFresh ? fresh : holders
}

/** Few holders: compare them all; many: power of two choices among the fresh ones. */
function chooseHolder (holders: Candidate[], cost: (c: Candidate) => number, random: Random, config: SchedulerConfig): Candidate {
  if (holders.length <= config.fullScanMax) return cheapest(holders, cost, random)
  return powerOfTwo(freshPool(holders, config), cost, random)
}

/**
 * The two peers power of two choices would compare, for the load probe; none
 * when there are at most `fullScanMax` eligible holders (they are all compared,
 * and this node's own counts and the frequent gossip of a small mesh suffice).
 * The client probes those with old figures, then chooses with the candidates
 * restricted to these two and this node.
 */
export function samplePair (candidates: Candidate[], stats: SchedulerStats, random: Random): Candidate[] {
  const config = { ...DEFAULT_SCHEDULER_CONFIG, ...stats.config }
  const holders = eligibleCandidates(candidates, stats).live.filter(c => c.hasModel && !c.local)
  if (holders.length <= config.fullScanMax) return []
  const pool = freshPool(holders, config)
  if (pool.length <= 2) return pool
  const i = Math.min(pool.length - 1, Math.floor(random() * pool.length))
  let j = Math.min(pool.length - 2, Math.floor(random() * (pool.length - 1)))
  if (j >= i) j++
  return [pool[i], pool[j]]
}

/**
 * The candidates an attempt may use, by preference, backoff and the peers this
 * request already tried; `fallback` when only this node is left of a `remote`
 * preference. Shared by every policy, so they differ only in the choice itself.
 */
export function eligibleCandidates (candidates: Candidate[], stats: SchedulerStats): { live: Candidate[], fallback: boolean } {
  const usable = (c: Candidate): boolean => !stats.backedOff.has(c.peerId) && !stats.tried.has(c.peerId)
  const { pool, fallback } = byPreference(candidates, stats.prefer ?? 'auto', usable)
  return { live: eligible(pool, stats), fallback }
}

/**
 * Choose the candidate for the next attempt, or `undefined` when none is
 * eligible. Pure: the same inputs and random sequence give the same choice.
 */
export function chooseCandidate (candidates: Candidate[], stats: SchedulerStats, random: Random): Choice | undefined {
  const config = { ...DEFAULT_SCHEDULER_CONFIG, ...stats.config }
  const cost = (c: Candidate): number => candidateCost(c, stats, config)
  const { live, fallback } = eligibleCandidates(candidates, stats)
  if (live.length === 0) return undefined
  const pick = (candidate: Candidate, reason: ChoiceReason): Choice =>
    ({ candidate, cost: cost(candidate), reason: fallback ? 'fallback' : live.length === 1 ? 'only' : reason })

  const local = live.find(c => c.local && c.hasModel)
  const peers = live.filter(c => !c.local)
  if (local != null && hasFreeSlot(local, stats.outstanding)) {
    const cheapestPeer = Math.min(...peers.map(cost))
    if (cost(local) <= config.localBias * cheapestPeer) return pick(local, 'local-idle')
  }

  const holders = live.filter(c => c.hasModel)
  const fetchers = live.filter(c => !c.hasModel)
  if (holders.length === 0) return pick(powerOfTwo(fetchers, cost, random), 'fetch')
  const holder = chooseHolder(holders, cost, random, config)
  if (fetchers.length > 0 && !hasFreeSlot(holder, stats.outstanding)) {
    const fetcher = powerOfTwo(fetchers, cost, random)
    if (cost(fetcher) < cost(holder)) return pick(fetcher, 'fetch')
  }
  return pick(holder, 'p2c')
}
