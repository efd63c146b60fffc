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
 * still outstanding plus at most `maxHistory` finished ones of the last
 * `historyMs`, in an {@link OwnLedger} that answers `ownAt` without a pass over
 * all of them).
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

/**
 * This node's requests to one peer, kept for `ownAt` questions without a pass
 * over all of them per request: the outstanding ones, and the finished ones in
 * the order they finished (so `doneAt` ascending), of which the estimator
 * drops the oldest. `at` walks the finished ones from the newest and stops at
 * the first that finished before the window: a figure is usually recent, so
 * it reads a handful of entries, not the whole history.
 */
export class OwnLedger {
  readonly outstanding = new Set<OwnRequest>()
  readonly finished: OwnRequest[] = []

  /** Same as `ownAt` over every request of the ledger. */
  at (t: number, windowMs = 0): number {
    let n = 0
    for (const r of this.outstanding) if (r.sentAt <= t) n++
    for (let i = this.finished.length - 1; i >= 0; i--) {
      const r = this.finished[i]
      if ((r.doneAt as number) <= t - windowMs) break
      if (r.sentAt <= t) n++
    }
    return n
  }

  get empty (): boolean {
    return this.outstanding.size === 0 && this.finished.length === 0
  }
}

/** `peer` with its reported work replaced by the other clients' share of its freshest figure, and `receivedAt` by that figure's time. */
export function othersLoad (peer: PeerLoad, observation: LoadObservation | undefined, own: readonly OwnRequest[] | OwnLedger): PeerLoad {
  const figure = observedLoad(peer, observation)
  // A gossiped figure is dated by its arrival, which a busy event loop delays: an own request
  // answered meanwhile may still be in it, and must not be taken for another client's.
  const windowMs = figure === observation ? 0 : DEFAULT_GOSSIP_FIGURE_WINDOW_MS
  const mine = own instanceof OwnLedger ? own.at(figure.atMs, windowMs) : ownAt(own, figure.atMs, windowMs)
  const others = Math.max(0, figure.outstanding - mine)
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
  private readonly own = new Map<string, OwnLedger>()
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
    let ledger = this.own.get(peerId)
    if (ledger == null) {
      ledger = new OwnLedger()
      this.own.set(peerId, ledger)
    }
    ledger.outstanding.add(entry)
    const own = ledger
    return (doneAtMs) => {
      if (entry.doneAt != null) return
      entry.doneAt = doneAtMs
      own.outstanding.delete(entry)
      own.finished.push(entry)
      this.prune(peerId, own, doneAtMs)
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
    const estimated = peers.map(p => othersLoad(p, this.observations.get(p.peerId), this.own.get(p.peerId) ?? NO_REQUESTS))
    return now == null || this.fadeMs <= 0 ? estimated : fadeStale(estimated, now, this.fadeMs)
  }

  /** Forget peers no longer in `live` (they left the load table). */
  retain (live: ReadonlySet<string>): void {
    for (const peerId of this.observations.keys()) if (!live.has(peerId)) this.observations.delete(peerId)
    for (const [peerId, ledger] of this.own) if (!live.has(peerId) && ledger.outstanding.size === 0) this.own.delete(peerId)
  }

  /** Drop the oldest finished requests beyond `maxHistory` or older than `historyMs` (amortised O(1) per answer). */
  private prune (peerId: string, ledger: OwnLedger, now: number): void {
    const finished = ledger.finished
    let drop = Math.max(0, finished.length - this.maxHistory)
    while (drop < finished.length && now - (finished[drop].doneAt as number) > this.historyMs) drop++
    if (drop > 0) finished.splice(0, drop)
    if (ledger.empty && this.own.get(peerId) === ledger) this.own.delete(peerId)
  }
}

const NO_REQUESTS = new OwnLedger()
