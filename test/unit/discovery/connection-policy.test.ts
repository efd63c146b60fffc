import { describe, expect, it } from 'vitest'
import { dialsFirst, duplicatesToClose, wantsMorePeers } from '../../../src/discovery/connection-policy.js'
import type { ConnectionInfo } from '../../../src/discovery/connection-policy.js'

const conn = (id: string, over: Partial<ConnectionInfo> = {}): ConnectionInfo => ({ id, streams: 0, dialer: 'A', openedAt: 0, ...over })

describe('connection policy', () => {
  it('lets exactly one of two peers dial first', () => {
    expect(dialsFirst('A', 'B')).toBe(true)
    expect(dialsFirst('B', 'A')).toBe(false)
  })

  it('dials for gossip only below the target', () => {
    expect(wantsMorePeers(11, 12)).toBe(true)
    expect(wantsMorePeers(12, 12)).toBe(false)
  })

  it('counts dials under way towards the target (a burst of reports does not overshoot it)', () => {
    expect(wantsMorePeers(1, 6, 4)).toBe(true)
    expect(wantsMorePeers(1, 6, 5)).toBe(false)
    expect(wantsMorePeers(0, 6)).toBe(true)
  })

  it('keeps one connection per peer and closes only stream-less duplicates', () => {
    expect(duplicatesToClose([conn('1')])).toEqual([])
    expect(duplicatesToClose([conn('1', { dialer: 'B' }), conn('2', { dialer: 'A' })])).toEqual(['1'])
    expect(duplicatesToClose([conn('1', { streams: 2, dialer: 'B' }), conn('2', { dialer: 'A' })])).toEqual(['2'])
    expect(duplicatesToClose([conn('1', { streams: 1, dialer: 'B' }), conn('2', { streams: 1, dialer: 'A' })])).toEqual([])
    expect(duplicatesToClose([conn('1', { openedAt: 5 }), conn('2', { openedAt: 1 }), conn('3', { openedAt: 9 })])).toEqual(['1', '3'])
  })

  it('both ends choose the same keeper (the input order does not matter)', () => {
    const a = [conn('x', { dialer: 'B', openedAt: 3 }), conn('y', { dialer: 'A', openedAt: 7 })]
    expect(duplicatesToClose(a)).toEqual(duplicatesToClose([...a].reverse()))
  })
})
