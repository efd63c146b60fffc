import { describe, expect, it } from 'vitest'
import { applyReport, dropPeer, emptyLoadTable, expireEntries, liveEntries } from '../../../src/gossip/load-table.js'
import type { LoadReport } from '../../../src/gossip/types.js'

const base: LoadReport = {
  seq: 10, timestamp: 1000, cpu: 0.1, memFree: 1, inFlight: 0, queued: 0, capacity: 2,
  backend: 'cpu', models: [], training: false, canTrain: false, role: 'edge', name: 'a', addrs: []
}
const SKEW = 60_000

describe('load table', () => {
  it('keeps the latest report per peer by sequence number', () => {
    let table = emptyLoadTable()
    table = applyReport(table, 'A', { ...base, seq: 10, inFlight: 1 }, 1000, SKEW).table
    const newer = applyReport(table, 'A', { ...base, seq: 12, inFlight: 2 }, 1100, SKEW)
    expect(newer.verdict).toBe('accepted')
    const older = applyReport(newer.table, 'A', { ...base, seq: 11, inFlight: 9 }, 1200, SKEW)
    expect(older.verdict).toBe('stale')
    const replay = applyReport(older.table, 'A', { ...base, seq: 12, inFlight: 9 }, 1200, SKEW)
    expect(replay.verdict).toBe('stale')
    expect(replay.table.entries.get('A')?.report.inFlight).toBe(2)
  })

  it('does not change the input table (pure)', () => {
    const table = emptyLoadTable()
    applyReport(table, 'A', base, 1000, SKEW)
    expect(table.entries.size).toBe(0)
  })

  it('rejects reports stamped far in the future', () => {
    const { verdict, table } = applyReport(emptyLoadTable(), 'A', { ...base, timestamp: 1000 + SKEW + 1 }, 1000, SKEW)
    expect(verdict).toBe('future')
    expect(table.entries.size).toBe(0)
  })

  it('expires entries after the ttl and reports which', () => {
    let table = applyReport(emptyLoadTable(), 'A', base, 1000, SKEW).table
    table = applyReport(table, 'B', base, 2500, SKEW).table
    expect(liveEntries(table, 3000, 1500).map(e => e.peerId)).toEqual(['B'])
    const { table: after, expired } = expireEntries(table, 3000, 1500)
    expect(expired).toEqual(['A'])
    expect([...after.entries.keys()]).toEqual(['B'])
  })

  it('drops a disconnected peer', () => {
    const table = applyReport(emptyLoadTable(), 'A', base, 1000, SKEW).table
    expect(dropPeer(table, 'A').table.entries.size).toBe(0)
    expect(dropPeer(table, 'B').dropped).toBe(false)
  })

  it('accepts a restarted peer whose sequence restarts at a later wall clock', () => {
    const table = applyReport(emptyLoadTable(), 'A', { ...base, seq: 1_700_000_000_000 + 50 }, 1000, SKEW).table
    expect(applyReport(table, 'A', { ...base, seq: 1_700_000_009_000 }, 1000, SKEW).verdict).toBe('accepted')
  })
})
