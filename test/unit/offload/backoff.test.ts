import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  backedOffPeers, backoffDelay, emptyBackoff, isBackedOff, pruneBackoff, recordBusy, recordFailure, recordSuccess
} from '../../../src/offload/backoff.js'

const config = { baseMs: 250, maxMs: 30_000, busyMs: 100 }

describe('backoff', () => {
  it('doubles from the base with each failure up to the cap', () => {
    let s = emptyBackoff()
    const delays: number[] = []
    for (let i = 0; i < 10; i++) {
      s = recordFailure(s, 'a', 1000, config)
      delays.push((s.entries.get('a')?.until ?? 0) - 1000)
    }
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000])
  })

  it('never exceeds the cap, never shrinks while failures continue', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2000 }), (n) => {
      const d = backoffDelay(n, config)
      expect(d).toBeLessThanOrEqual(config.maxMs)
      expect(backoffDelay(n + 1, config)).toBeGreaterThanOrEqual(d)
    }))
  })

  it('skips the peer until its backoff expires', () => {
    const s = recordFailure(emptyBackoff(), 'a', 0, config)
    expect(isBackedOff(s, 'a', 249)).toBe(true)
    expect(isBackedOff(s, 'a', 250)).toBe(false)
    expect(isBackedOff(s, 'b', 0)).toBe(false)
    expect(backedOffPeers(s, 100)).toEqual(new Set(['a']))
  })

  it('resets on success', () => {
    let s = recordFailure(recordFailure(emptyBackoff(), 'a', 0, config), 'a', 0, config)
    s = recordSuccess(s, 'a')
    expect(isBackedOff(s, 'a', 0)).toBe(false)
    s = recordFailure(s, 'a', 0, config)
    expect(s.entries.get('a')?.until).toBe(250)
  })

  it('counts PeerBusy as a short backoff that does not grow', () => {
    let s = emptyBackoff()
    for (let i = 0; i < 5; i++) s = recordBusy(s, 'a', 0, config)
    expect(s.entries.get('a')).toEqual({ failures: 0, until: 100 })
    s = recordFailure(s, 'a', 0, config)
    s = recordBusy(s, 'a', 0, config)
    expect(s.entries.get('a')).toEqual({ failures: 1, until: 250 })
  })

  it('forgets entries expired for longer than the cap', () => {
    const s = recordFailure(emptyBackoff(), 'a', 0, config)
    expect(pruneBackoff(s, 250 + 30_000, config).entries.has('a')).toBe(true)
    expect(pruneBackoff(s, 250 + 30_001, config).entries.has('a')).toBe(false)
  })

  it('does not change the state it is given', () => {
    const s = emptyBackoff()
    recordFailure(s, 'a', 0, config)
    expect(s.entries.size).toBe(0)
  })
})
