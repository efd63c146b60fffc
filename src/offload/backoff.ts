/**
 * Per-peer failure backoff as pure functions over an immutable state.
 *
 * A peer that fails is skipped by the scheduler for `base * 2^(failures-1)`
 * ms, capped at `max`; a success resets it. A PeerBusy answer (the peer's queue
 * was full) is not a fault: it skips the peer for a short fixed time and does
 * not grow the failure count. Entries are forgotten once they have been
 * expired for longer than `max`, so the table stays as small as the set of
 * recently failing peers. No jitter: backoff decides which peers to skip, not
 * when to retry a shared resource, and the scheduler's random sampling already
 * spreads the load.
 */
import { DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_MAX_MS, DEFAULT_BUSY_BACKOFF_MS } from './scheduler-constants.js'

export interface BackoffConfig {
  /** First backoff, ms. @default 250 */
  baseMs: number
  /** Longest backoff, ms. @default 30000 */
  maxMs: number
  /** Backoff after PeerBusy, ms. @default 100 */
  busyMs: number
}

export const DEFAULT_BACKOFF_CONFIG: Readonly<BackoffConfig> = Object.freeze({
  baseMs: DEFAULT_BACKOFF_BASE_MS,
  maxMs: DEFAULT_BACKOFF_MAX_MS,
  busyMs: DEFAULT_BUSY_BACKOFF_MS
})

export interface BackoffEntry {
  /** Consecutive failures since the last success. */
  readonly failures: number
  /** Clock time until which the peer is skipped, ms. */
  readonly until: number
}

export interface BackoffState {
  readonly entries: ReadonlyMap<string, BackoffEntry>
}

export function emptyBackoff (): BackoffState {
  return { entries: new Map() }
}

/** The backoff after `failures` consecutive failures, ms. */
export function backoffDelay (failures: number, config: BackoffConfig = DEFAULT_BACKOFF_CONFIG): number {
  if (failures <= 0) return 0
  return Math.min(config.maxMs, config.baseMs * 2 ** Math.min(failures - 1, 52))
}

function withEntry (state: BackoffState, peerId: string, entry: BackoffEntry | undefined): BackoffState {
  const entries = new Map(state.entries)
  if (entry == null) entries.delete(peerId)
  else entries.set(peerId, entry)
  return { entries }
}

/** A request to `peerId` failed at `now`: double its backoff. */
export function recordFailure (state: BackoffState, peerId: string, now: number, config: BackoffConfig = DEFAULT_BACKOFF_CONFIG): BackoffState {
  const failures = (state.entries.get(peerId)?.failures ?? 0) + 1
  return withEntry(state, peerId, { failures, until: now + backoffDelay(failures, config) })
}

/** `peerId` answered PeerBusy at `now`: skip it briefly, keep its failure count. */
export function recordBusy (state: BackoffState, peerId: string, now: number, config: BackoffConfig = DEFAULT_BACKOFF_CONFIG): BackoffState {
  const current = state.entries.get(peerId)
  const until = Math.max(current?.until ?? 0, now + config.busyMs)
  return withEntry(state, peerId, { failures: current?.failures ?? 0, until })
}

/** A request to `peerId` succeeded: forget its failures. */
export function recordSuccess (state: BackoffState, peerId: string): BackoffState {
  return state.entries.has(peerId) ? withEntry(state, peerId, undefined) : state
}

/** True while `peerId` should be skipped. */
export function isBackedOff (state: BackoffState, peerId: string, now: number): boolean {
  const entry = state.entries.get(peerId)
  return entry != null && now < entry.until
}

/** The peers being skipped at `now`. */
export function backedOffPeers (state: BackoffState, now: number): Set<string> {
  return new Set([...state.entries].filter(([, e]) => now < e.until).map(([peerId]) => peerId))
}

/** Drop entries that expired more than `maxMs` ago (their failure count is forgotten too). */
export function pruneBackoff (state: BackoffState, now: number, config: BackoffConfig = DEFAULT_BACKOFF_CONFIG): BackoffState {
  const stale = [...state.entries].filter(([, e]) => now - e.until > config.maxMs)
  if (stale.length === 0) return state
  const entries = new Map(state.entries)
  for (const [peerId] of stale) entries.delete(peerId)
  return { entries }
}
