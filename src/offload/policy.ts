/**
 * Scheduling policies: the cost-based scheduler (`p2c`, see `scheduler.ts`) and
 * three baselines it is benchmarked against. All four are pure
 * `(candidates, stats, random, state) => { choice, state }` and share the
 * eligibility rules (preference, backoff, peers already tried), so the client's
 * retries, backoff and hedging are the same whichever policy chooses.
 *
 * - `random`: a uniformly random eligible candidate.
 * - `round-robin`: the eligible candidates in peer id order, one after the other
 *   across requests (the cursor is the returned state). When the eligible set
 *   changes (a peer backs off or was tried), the cursor indexes the new set.
 *
 * - `least-outstanding`: the eligible candidate with the fewest of this node's
 *   own outstanding requests (ties broken at random). It reads no gossip and no
 *   latency: the classic client-side balancer (Envoy's and Finagle's
 *   least-request), which already avoids a slow peer because requests pile up
 *   there. For this node itself its live in-flight + queued work is used.
 *
 * The baselines prefer candidates that hold the model, and pick among those
 * that would fetch it only when no holder is eligible.
 */
import { candidateCost, chooseCandidate, DEFAULT_SCHEDULER_CONFIG, eligibleCandidates } from './scheduler.js'
import type { Candidate, Choice, ChoiceReason, Random, SchedulerStats } from './scheduler.js'

/** Who chooses where an attempt runs. @default 'p2c' */
export type SchedulingPolicy = 'p2c' | 'random' | 'round-robin' | 'least-outstanding'

/** State a policy carries from one choice to the next: the round-robin cursor. */
export interface PolicyState {
  readonly cursor: number
}

export const INITIAL_POLICY_STATE: PolicyState = Object.freeze({ cursor: 0 })

/** True when `value` names a policy. */
export function isSchedulingPolicy (value: unknown): value is SchedulingPolicy {
  return value === 'p2c' || value === 'random' || value === 'round-robin' || value === 'least-outstanding'
}

/** Requests this node knows to be at `c`: its own outstanding ones (live work for itself). */
function outstandingAt (c: Candidate, stats: SchedulerStats): number {
  return c.local ? c.inFlight + c.queued : (stats.outstanding.get(c.peerId) ?? 0)
}

/** Index of a candidate with the fewest outstanding requests, a random one among ties. */
function leastOutstanding (pool: Candidate[], stats: SchedulerStats, random: Random): number {
  const counts = pool.map(c => outstandingAt(c, stats))
  const least = Math.min(...counts)
  const ties = counts.flatMap((n, i) => n === least ? [i] : [])
  return ties[Math.min(ties.length - 1, Math.floor(random() * ties.length))]
}

function baselinePool (live: Candidate[]): Candidate[] {
  const holders = live.filter(c => c.hasModel)
  return holders.length > 0 ? holders : live
}

function byPeerId (a: Candidate, b: Candidate): number {
  return a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0
}

/**
 * Choose the candidate for the next attempt with `policy`, or `undefined` when
 * none is eligible; returns the state for the next call. Pure.
 */
export function chooseByPolicy (policy: SchedulingPolicy, candidates: Candidate[], stats: SchedulerStats,
  random: Random, state: PolicyState): { choice: Choice | undefined, state: PolicyState } {
  if (policy === 'p2c') return { choice: chooseCandidate(candidates, stats, random), state }
  const { live, fallback } = eligibleCandidates(candidates, stats)
  if (live.length === 0) return { choice: undefined, state }
  const pool = baselinePool(live)
  let index: number
  let next = state
  if (policy === 'random') {
    index = Math.min(pool.length - 1, Math.floor(random() * pool.length))
  } else if (policy === 'least-outstanding') {
    index = leastOutstanding(pool, stats, random)
  } else {
    pool.sort(byPeerId)
    index = state.cursor % pool.length
    next = { cursor: (state.cursor + 1) % Number.MAX_SAFE_INTEGER }
  }
  const candidate = pool[index]
  const reason: ChoiceReason = fallback ? 'fallback' : live.length === 1 ? 'only' : policy
  const config = { ...DEFAULT_SCHEDULER_CONFIG, ...stats.config }
  return { choice: { candidate, cost: candidateCost(candidate, stats, config), reason }, state: next }
}
