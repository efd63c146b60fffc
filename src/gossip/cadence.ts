/**
 * When a node publishes its load, as pure functions of the mesh's size, so the
 * reports any node receives per second stay bounded whatever the size
 * (issue #12; memberlist bounds its gossip the same way):
 *
 * - a **heartbeat** when nothing was published for `heartbeatIntervalMs`:
 *   the base interval in a small mesh, `meshSize / heartbeatBudget` seconds in
 *   a larger one, so the mesh sends about `heartbeatBudget` heartbeats a second;
 * - a **change report** when the work changed significantly
 *   (`isSignificantChange`), at most every `changeGapMs`: at least
 *   `MIN_EARLY_REPORT_GAP_MS`, and `meshSize / changeBudget` seconds in a
 *   larger mesh, so the mesh sends at most about `changeBudget` a second.
 *
 * A node receives about `heartbeatBudget + changeBudget` reports per second
 * (gossipsub may deliver a copy more than once, at most its mesh degree times).
 * Each report carries its sender's heartbeat interval, so receivers keep the
 * entry for `expiryIntervals` of the sender's interval (`entryTtlMs`).
 */
import { MIN_EARLY_REPORT_GAP_MS, SIGNIFICANT_CHANGE_FRACTION } from './constants.js'
import type { LocalWork, PeerLoad } from './types.js'

export interface CadenceSettings {
  /** Base interval: the heartbeat of a small mesh, ms. */
  intervalMs: number
  /** Heartbeats per second the whole mesh aims for. */
  heartbeatBudget: number
  /** Change reports per second the whole mesh may send. */
  changeBudget: number
  /** Longest heartbeat interval, ms. */
  maxIntervalMs: number
}

/** `value` limited to [min, max]. */
function clamp (value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value))
}

/** The heartbeat interval of a node that knows `meshSize` nodes (itself included), ms. */
export function heartbeatIntervalMs (settings: CadenceSettings, meshSize: number): number {
  const spread = Math.ceil(Math.max(1, meshSize) * 1000 / settings.heartbeatBudget)
  return clamp(spread, settings.intervalMs, Math.max(settings.intervalMs, settings.maxIntervalMs))
}

/**
 * The shortest gap between two change reports of one node, ms (never above
 * its heartbeat interval). A larger change (`magnitude`: the change in units
 * of the significance threshold, see `changeMagnitude`) may be reported that
 * many times sooner: a node whose queue is filling up warns the mesh before
 * one whose load wobbles.
 */
export function changeGapMs (settings: CadenceSettings, meshSize: number, magnitude = 1): number {
  const spread = Math.ceil(Math.max(1, meshSize) * 1000 / settings.changeBudget / Math.max(1, magnitude))
  return clamp(spread, MIN_EARLY_REPORT_GAP_MS, heartbeatIntervalMs(settings, meshSize))
}

/**
 * How large the change of in-flight + queued work is, in units of the
 * significance threshold (`fraction` of the capacity, at least one request);
 * 0 when the work stayed below the capacity on both sides (a free slot taken
 * or freed: nobody would wait there either way). A change of training, the
 * ability to train or the set of models counts as 1.
 */
export function changeMagnitude (before: LocalWork, now: LocalWork, fraction = SIGNIFICANT_CHANGE_FRACTION): number {
  const was = before.inFlight + before.queued
  const is = now.inFlight + now.queued
  const capacity = Math.max(1, now.capacity)
  const flags = now.training !== before.training || now.canTrain !== before.canTrain || now.models.join() !== before.models.join() ? 1 : 0
  if (was < capacity && is < capacity) return flags
  return Math.max(flags, Math.abs(is - was) / Math.max(1, fraction * capacity))
}

/** A change worth reporting before the next heartbeat: a magnitude of at least 1 (see `changeMagnitude`). */
export function isSignificantChange (before: LocalWork, now: LocalWork, fraction = SIGNIFICANT_CHANGE_FRACTION): boolean {
  return changeMagnitude(before, now, fraction) >= 1
}

/**
 * The heartbeat is due when nothing was published for a heartbeat interval,
 * or for the interval the last report announced if that is shorter: receivers
 * expire the entry by the announced interval, so a node whose mesh grew sends
 * one more report (announcing the longer interval) before it slows down.
 */
export function heartbeatDue (settings: CadenceSettings, meshSize: number, lastPublishAt: number, announcedMs: number, now: number): boolean {
  return now - lastPublishAt >= Math.min(heartbeatIntervalMs(settings, meshSize), announcedMs)
}

/** When a significant change may be published: `waitMs` from now (0: at once). */
export function changeWaitMs (settings: CadenceSettings, meshSize: number, lastPublishAt: number, now: number, magnitude = 1): number {
  return Math.max(0, changeGapMs(settings, meshSize, magnitude) - (now - lastPublishAt))
}

/**
 * How long a receiver keeps an entry, ms: `expiryIntervals` of the sender's
 * heartbeat interval (at least the receiver's own base interval, and at most
 * `maxIntervalMs`, so a peer cannot make its entry immortal).
 */
export function entryTtlMs (entry: PeerLoad, settings: Pick<CadenceSettings, 'intervalMs' | 'maxIntervalMs'>, expiryIntervals: number): number {
  const interval = clamp(entry.report.intervalMs ?? 0, settings.intervalMs, Math.max(settings.intervalMs, settings.maxIntervalMs))
  return interval * expiryIntervals
}
