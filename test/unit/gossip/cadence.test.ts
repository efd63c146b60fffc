import { describe, expect, it } from 'vitest'
import { changeGapMs, changeMagnitude, changeWaitMs, entryTtlMs, heartbeatDue, heartbeatIntervalMs, isSignificantChange } from '../../../src/gossip/cadence.js'
import { applyReport, emptyLoadTable, expireEntries, liveEntries } from '../../../src/gossip/load-table.js'
import type { LoadReport, LocalWork, PeerLoad } from '../../../src/gossip/types.js'

const lan = { intervalMs: 1000, heartbeatBudget: 4, changeBudget: 8, maxIntervalMs: 120_000 }
const work = (over: Partial<LocalWork> = {}): LocalWork => ({ inFlight: 0, queued: 0, capacity: 4, training: false, canTrain: false, models: [], ...over })
const report = (over: Partial<LoadReport> = {}): LoadReport => ({
  seq: 1, timestamp: 0, cpu: 0, memFree: 0, inFlight: 0, queued: 0, capacity: 1, backend: 'cpu', models: [], training: false, canTrain: false, role: 'edge', name: '', addrs: [], ...over
})

describe('gossip cadence', () => {
  it('keeps the base interval in a small mesh and spreads heartbeats in a large one', () => {
    expect(heartbeatIntervalMs(lan, 1)).toBe(1000)
    expect(heartbeatIntervalMs(lan, 4)).toBe(1000)
    expect(heartbeatIntervalMs(lan, 100)).toBe(25_000)
    expect(heartbeatIntervalMs(lan, 10_000)).toBe(120_000)
  })

  it('bounds the heartbeats a node receives per second independently of the mesh size', () => {
    for (const n of [8, 30, 100, 300]) {
      const receivedPerSecond = (n - 1) / (heartbeatIntervalMs(lan, n) / 1000)
      expect(receivedPerSecond).toBeLessThanOrEqual(lan.heartbeatBudget)
    }
  })

  it('spaces change reports by the change budget, never closer than 100 ms nor wider than the heartbeat', () => {
    expect(changeGapMs(lan, 2)).toBe(250)
    expect(changeGapMs({ ...lan, changeBudget: 1000 }, 2)).toBe(100)
    expect(changeGapMs(lan, 100)).toBe(12_500)
    expect(changeGapMs({ ...lan, changeBudget: 1 }, 100)).toBe(heartbeatIntervalMs(lan, 100))
    expect(changeWaitMs(lan, 100, 0, 10_000)).toBe(2_500)
    expect(changeWaitMs(lan, 100, 0, 20_000)).toBe(0)
  })

  it('in a LAN of a few nodes a change goes out within one report interval', () => {
    for (const n of [2, 3, 4, 5]) expect(changeGapMs(lan, n)).toBeLessThanOrEqual(lan.intervalMs)
  })

  it('sends one more heartbeat at the announced interval before slowing down', () => {
    expect(heartbeatDue(lan, 100, 0, 1000, 999)).toBe(false)
    expect(heartbeatDue(lan, 100, 0, 1000, 1000)).toBe(true)
    expect(heartbeatDue(lan, 100, 0, 25_000, 24_000)).toBe(false)
    expect(heartbeatDue(lan, 2, 0, 25_000, 1000)).toBe(true)
  })

  it('counts changes above the capacity, and changes of training or models, as significant', () => {
    expect(isSignificantChange(work(), work({ inFlight: 1 }))).toBe(false)
    expect(isSignificantChange(work({ inFlight: 3 }), work({ inFlight: 4, queued: 1 }))).toBe(true)
    expect(isSignificantChange(work({ inFlight: 4, queued: 2 }), work({ inFlight: 4, queued: 1 }))).toBe(true)
    expect(isSignificantChange(work({ capacity: 1, inFlight: 1 }), work({ capacity: 1 }))).toBe(true)
    expect(isSignificantChange(work(), work({ training: true }))).toBe(true)
    expect(isSignificantChange(work(), work({ models: ['m'] }))).toBe(true)
    expect(changeMagnitude(work({ inFlight: 4 }), work({ inFlight: 4, queued: 4 }))).toBe(4)
  })

  it('keeps an entry for expiryIntervals of the sender\'s announced interval, within the receiver\'s bounds', () => {
    const entry = (intervalMs?: number): PeerLoad => ({ peerId: 'a', receivedAt: 0, report: report({ intervalMs }) })
    expect(entryTtlMs(entry(), lan, 3)).toBe(3000)
    expect(entryTtlMs(entry(25_000), lan, 3)).toBe(75_000)
    expect(entryTtlMs(entry(10), lan, 3)).toBe(3000)
    expect(entryTtlMs(entry(10_000_000), lan, 3)).toBe(360_000)
  })

  it('the load table expires entries by their own TTL', () => {
    let table = emptyLoadTable()
    table = applyReport(table, 'slow', report({ intervalMs: 25_000 }), 0, 60_000).table
    table = applyReport(table, 'fast', report({ intervalMs: 1000 }), 0, 60_000).table
    const ttl = (e: PeerLoad): number => entryTtlMs(e, lan, 3)
    expect(liveEntries(table, 10_000, ttl).map(e => e.peerId)).toEqual(['slow'])
    expect(expireEntries(table, 10_000, ttl).expired).toEqual(['fast'])
  })
})
