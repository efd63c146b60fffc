/**
 * The load table as pure functions over an immutable state: the latest report
 * per peer wins by sequence number, entries expire after a few missed
 * intervals, and a disconnected peer is dropped. The gossip service is the
 * thin shell that feeds these functions with messages and timer ticks.
 */
import type { LoadReport, PeerLoad } from './types.js'

export interface LoadTable {
  readonly entries: ReadonlyMap<string, PeerLoad>
}

export type ReportVerdict = 'accepted' | 'stale' | 'future'

/** How long an entry lives, ms: one figure for every entry, or one per entry (see `entryTtlMs` in cadence.ts). */
export type Ttl = number | ((entry: PeerLoad) => number)

function ttlOf (ttl: Ttl, entry: PeerLoad): number {
  return typeof ttl === 'number' ? ttl : ttl(entry)
}

export function emptyLoadTable (): LoadTable {
  return { entries: new Map() }
}

/**
 * Judge a report against the table without changing it: `stale` when the peer
 * already has a report with the same or a higher sequence number, `future`
 * when its timestamp is further ahead of `now` than `maxSkewMs`.
 */
export function judgeReport (table: LoadTable, peerId: string, report: LoadReport, now: number, maxSkewMs: number): ReportVerdict {
  if (report.timestamp > now + maxSkewMs) return 'future'
  const current = table.entries.get(peerId)
  if (current != null && report.seq <= current.report.seq) return 'stale'
  return 'accepted'
}

/** Apply a report: a newer one (higher seq) replaces the entry; others leave the table unchanged. */
export function applyReport (table: LoadTable, peerId: string, report: LoadReport, now: number, maxSkewMs: number): { table: LoadTable, verdict: ReportVerdict } {
  const verdict = judgeReport(table, peerId, report, now, maxSkewMs)
  if (verdict !== 'accepted') return { table, verdict }
  const entries = new Map(table.entries)
  entries.set(peerId, { peerId, report, receivedAt: now })
  return { table: { entries }, verdict }
}

/** Remove entries older than `ttlMs`; returns the removed peer ids. */
export function expireEntries (table: LoadTable, now: number, ttlMs: Ttl): { table: LoadTable, expired: string[] } {
  const expired = [...table.entries.values()].filter(e => now - e.receivedAt > ttlOf(ttlMs, e)).map(e => e.peerId)
  if (expired.length === 0) return { table, expired }
  const entries = new Map(table.entries)
  for (const peerId of expired) entries.delete(peerId)
  return { table: { entries }, expired }
}

/** Remove one peer (it disconnected). */
export function dropPeer (table: LoadTable, peerId: string): { table: LoadTable, dropped: boolean } {
  if (!table.entries.has(peerId)) return { table, dropped: false }
  const entries = new Map(table.entries)
  entries.delete(peerId)
  return { table: { entries }, dropped: true }
}

/** Entries received within `ttlMs` of `now`. */
export function liveEntries (table: LoadTable, now: number, ttlMs: Ttl): PeerLoad[] {
  return [...table.entries.values()].filter(e => now - e.receivedAt <= ttlOf(ttlMs, e))
}
