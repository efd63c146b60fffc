/**
 * Fresher peer load than gossip alone gives: the scheduler's load view.
 *
 * Gossip reports slow down as the mesh grows (see `src/gossip/cadence.ts`), so a
 * report can be many seconds old. A node knows two things that are newer:
 * 1. **observations**: the load a peer reported with its answer to one of this
 *    node's requests (the `serverLoad` of an infer response) or with a load
 *    probe, `{ outstanding, capacity }` at a known time; the newer of that and
 *    the gossiped report is used (a newer observation overrides older gossip);
 * 2. **its own requests**: which of them were outstanding at the peer when that
 *    figure was taken, and which it has sent since.
 *
 * A candidate's reported load then becomes the load of *other* clients at the
 * peer, `max(0, figure - own requests outstanding at the figure's time)`; the
 * scheduler adds this node's live outstanding count (see `loadOf` in
 * `scheduler.ts`), so the estimate is `others then + own now`, with neither
 * this node's old requests counted twice nor its new ones missed.
 *
 * `observedLoad` and `ownAt` are pure; {@link LoadEstimator} is the thin state
 * around them (bounded: one observation per peer, and per peer the own requests
 * still outstanding plus at most `maxHistory` finished ones of the last `historyMs`).
 */
import { DEFAULT_GOSSIP_FIGURE_WINDOW_MS, DEFAULT_LOAD_FADE_MS, DEFAULT_OWN_HISTORY_MAX, DEFAULT_OWN_HISTORY_MS } from './scheduler-constants.js'
import type { PeerLoad } from '../gossip/types.js'

/** A peer's load as it said at `atMs` (this node's clock): requests running or queued there, and its slots. */
export interface LoadObservation {
  outstanding: number
  capacity: number
  atMs: number
}

/** One of this node's requests to a peer: sent at `sentAt`, answered (or abandoned) at `doneAt`. */
export interface OwnRequest {
  sentAt: number
  doneAt?: number
}

/** The freshest load figure of a peer: its gossiped report, or a newer observation. */
export function observedLoad (peer: PeerLoad, observation: LoadObservation | undefined): LoadObservation {
  const r = peer.report
  const gossip = { outstanding: Math.max(0, r.inFlight) + Math.max(0, r.queued), capacity: r.capacity, atMs: peer.receivedAt }
  return observation != null && observation.atMs > gossip.atMs ? observation : gossip
}

/**
 * How many of `own` were outstanding at time `t` (sent by then, not answered by
 * then), or at any time in `[t - windowMs, t]` when the figure's own time is
 * only known to lie in that window.
 */
export function ownAt (own: readonly OwnRequest[], t: number, windowMs = 0): number {
  let n = 0
  for (const r of own) if (r.sentAt <= t && (r.doneAt == null || r.doneAt > t - windowMs)) n++
  return n
}

/** `peer` with its reported work replaced by the other clients' share of its freshest figure, and `receivedAt` by that figure's time. */
export function othersLoad (peer: PeerLoad, observation: LoadObservation | undefined, own: readonly OwnRequest[]): PeerLoad {
  const figure = observedLoad(peer, observation)
  // A gossiped figure is dated by its arrival, which a busy event loop delays: an own request
  // answered meanwhile may still be in it, and must not be taken for another client's.
  const windowMs = figure === observation ? 0 : DEFAULT_GOSSIP_FIGURE_WINDOW_MS
  const others = Math.max(0, figure.outstanding - ownAt(own, figure.atMs, windowMs))
  const capacity = figure.capacity > 0 ? figure.capacity : peer.report.capacity
  const inFlight = Math.min(others, capacity)
  return { ...peer, receivedAt: figure.atMs, report: { ...peer.report, inFlight, queued: others - inFlight, capacity } }
}

/**
 * An old figure says little about a peer now: it may have been idle then and be
 * filled since by every client that read the same figure. Each peer's other
 * clients' load becomes `w * figure + (1 - w) * typical`, `w = exp(-age / fadeMs)`,
 * where `typical` is the load per slot of all peers weighted by the freshness of
 * their figures (per slot, times the peer's capacity). A peer not heard of for a
 * while thus looks like an average peer, neither idle nor busy.
 */
export function fadeStale (peers: readonly PeerLoad[], now: number, fadeMs: number): PeerLoad[] {
  const weights = peers.map(p => Math.exp(-Math.max(0, now - p.receivedAt) / fadeMs))
  let load = 0
  let slots = 0
  peers.forEach((p, i) => {
    load += weights[i] * (p.report.inFlight + p.report.queued)
    slots += weights[i] * Math.max(1, p.report.capacity)
  })
  const perSlot = slots > 0 ? load / slots : 0
  return peers.map((p, i) => {
    const w = weights[i]
    const capacity = Math.max(1, p.report.capacity)
    const others = w * (p.report.inFlight + p.report.queued) + (1 - w) * perSlot * capacity
    const inFlight = Math.min(others, capacity)
    return { ...p, report: { ...p.report, inFlight, queued: others - inFlight } }
  })
}

export interface LoadEstimatorInit {
  /** Finished own requests are remembered this long, ms. @default 60000 */
  historyMs?: number
  /** At most this many finished own requests are remembered per peer. @default 256 */
  maxHistory?: number
  /** Time constant with which a figure's weight fades toward the typical load, ms; 0 = never. @default 1000 */
  fadeMs?: number
}

/** This node's view of its peers' load: observations, its own requests, and the estimate built from them. */
export class LoadEstimator {
  private readonly observations = new Map<string, LoadObservation>()
  private readonly own = new Map<string, OwnRequest[]>()
  private readonly historyMs: number
  private readonly maxHistory: number
  private readonly fadeMs: number

  constructor (init: LoadEstimatorInit = {}) {
    this.historyMs = init.historyMs ?? DEFAULT_OWN_HISTORY_MS
    this.maxHistory = init.maxHistory ?? DEFAULT_OWN_HISTORY_MAX
    this.fadeMs = init.fadeMs ?? DEFAULT_LOAD_FADE_MS
  }

  /** A peer told its load at `atMs` (with an inference answer or a probe); an older figure than the one kept is ignored. */
  observeLoad (peerId: string, load: { outstanding: number, capacity: number }, atMs: number): void {
    const current = this.observations.get(peerId)
    if (current != null && current.atMs >= atMs) return
    if (!Number.isFinite(load.outstanding) || !Number.isFinite(load.capacity)) return
    this.observations.set(peerId, { outstanding: Math.max(0, load.outstanding), capacity: Math.max(0, load.capacity), atMs })
  }

  /** This node sent a request to `peerId`; call the returned function when it is answered or abandoned. */
  sent (peerId: string, atMs: number): (doneAtMs: number) => void {
    const entry: OwnRequest = { sentAt: atMs }
    const list = this.own.get(peerId) ?? []
    list.push(entry)
    this.own.set(peerId, list)
    return (doneAtMs) => {
      if (entry.doneAt != null) return
      entry.doneAt = doneAtMs
      this.prune(peerId, doneAtMs)
    }
  }

  /** The freshest observation of `peerId`, if any. */
  observation (peerId: string): LoadObservation | undefined {
    return this.observations.get(peerId)
  }

  /** Age of the freshest load figure of `peer` at `now`, ms. */
  ageOf (peer: PeerLoad, now: number): number {
    return now - observedLoad(peer, this.observations.get(peer.peerId)).atMs
  }

  /**
   * Peers with their reported work replaced by the other clients' share of the
   * freshest figure (see the module doc); with `now`, a figure's weight fades
   * with its age (`fadeMs`) toward the typical load of the peers seen lately.
   */
  estimate (peers: readonly PeerLoad[], now?: number): PeerLoad[] {
    const estimated = peers.map(p => othersLoad(p, this.observations.get(p.peerId), this.own.get(p.peerId) ?? []))
    return now == null || this.fadeMs <= 0 ? estimated : fadeStale(estimated, now, this.fadeMs)
  }

  /** Forget peers no longer in `live` (they left the load table). */
  retain (live: ReadonlySet<string>): void {
    for (const peerId of this.observations.keys()) if (!live.has(peerId)) this.observations.delete(peerId)
    for (const [peerId, list] of this.own) if (!live.has(peerId) && list.every(r => r.doneAt != null)) this.own.delete(peerId)
  }

  private prune (peerId: string, now: number): void {
    const list = this.own.get(peerId)
    if (list == null) return
    let finished = 0
    const kept = list.filter(r => r.doneAt == null || (now - r.doneAt <= this.historyMs && ++finished > 0))
    const excess = finished - this.maxHistory
    const bounded = excess > 0 ? dropOldestFinished(kept, excess) : kept
    if (bounded.length === 0) this.own.delete(peerId)
    else this.own.set(peerId, bounded)
  }
}

/** `list` without its `n` earliest-finished entries. */
function dropOldestFinished (list: OwnRequest[], n: number): OwnRequest[] {
  // Usually one over the cap (one more answer): a linear minimum, not a sort on every answer.
  const cutoff = n === 1 ? earliestDone(list) : list.filter(r => r.doneAt != null).map(r => r.doneAt as number).sort((a, b) => a - b)[n - 1]
  let dropped = 0
  return list.filter(r => !(r.doneAt != null && r.doneAt <= cutoff && dropped++ < n))
}

/** The earliest `doneAt` of `list` (Infinity when none finished). */
function earliestDone (list: readonly OwnRequest[]): number {
  let earliest = Infinity
  for (const r of list) if (r.doneAt != null && r.doneAt < earliest) earliest = r.doneAt
  return earliest
}
