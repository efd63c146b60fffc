/**
 * A burst's timeline, from what A's answers say (no clock shared with B):
 * for each request the time A sent its final attempt (answer time minus the
 * attempt's duration), when A saw the answer, where it ran, and the queue and
 * compute times the server reported. From it: how long B was idle (a remote
 * request that found B's queue empty started an idle gap at B), how long
 * requests waited parked at A before their attempt, and the tail (from B's
 * last answer to A's, or the other way round).
 */
import { round2 } from '../shared/stats.js'

/** One answered request of a burst, times in ms since the burst started (A's clock). */
export interface TimelineEntry {
  remote: boolean
  /** A started the attempt that answered. */
  sentAt: number
  /** A saw the answer. */
  seenAt: number
  queueMs: number
  computeMs: number
}

export interface TimelineSummary {
  /** Remote requests that found B with nothing queued (each one ends an idle gap at B, or is B's first). */
  remoteFoundIdle: number
  /** B's compute time / (B's last answer seen - first remote sent): the share of the burst B worked. */
  peerBusyShare: number
  /** Sum of B's compute times, ms. */
  peerComputeMs: number
  /** A's local compute, ms (sum). */
  localComputeMs: number
  /** Median wait at A (parked) from the burst's start to the answering attempt, remote and local requests, ms. */
  waitP50: { remote: number, local: number }
  /** Last answer of one node to the last of the other, ms (positive: B ended last). */
  tailMs: number
  /** Median of (A saw the answer - sent - B's queue - B's compute) for remote requests: the round trip and A's delays, ms. */
  remoteOverheadP50: number
  /** Its 90th percentile, ms. */
  remoteOverheadP90: number
}

function quantile (values: number[], q: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

export function summariseTimeline (entries: TimelineEntry[]): TimelineSummary {
  const remote = entries.filter(e => e.remote)
  const local = entries.filter(e => !e.remote)
  const lastRemote = Math.max(0, ...remote.map(e => e.seenAt))
  const lastLocal = Math.max(0, ...local.map(e => e.seenAt))
  const firstRemote = Math.min(...remote.map(e => e.sentAt))
  const peerComputeMs = remote.reduce((s, e) => s + e.computeMs, 0)
  const overhead = remote.map(e => e.seenAt - e.sentAt - e.queueMs - e.computeMs)
  return {
    remoteFoundIdle: remote.filter(e => e.queueMs < 0.5).length,
    peerBusyShare: remote.length === 0 ? 0 : round2(peerComputeMs / (lastRemote - firstRemote)),
    peerComputeMs: round2(peerComputeMs),
    localComputeMs: round2(local.reduce((s, e) => s + e.computeMs, 0)),
    waitP50: { remote: round2(quantile(remote.map(e => e.sentAt), 0.5)), local: round2(quantile(local.map(e => e.sentAt), 0.5)) },
    tailMs: round2(lastRemote - lastLocal),
    remoteOverheadP50: round2(quantile(overhead, 0.5)),
    remoteOverheadP90: round2(quantile(overhead, 0.9))
  }
}
