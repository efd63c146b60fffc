import { describe, expect, it } from 'vitest'
import { TimingWindow } from '../../../src/model/timing.js'

describe('TimingWindow', () => {
  it('summarises the window as lower medians, per call and per row, and follows every new record', () => {
    const w = new TimingWindow(3)
    expect(w.summary()).toBeUndefined()
    w.record(10, 1)
    w.record(40, 2)
    expect(w.summary()).toEqual({ calls: 2, p50Ms: 10, p50MsPerRow: 10 })
    // A caller that changes its copy does not change what the next caller reads.
    const copy = w.summary()
    if (copy != null) copy.p50Ms = 999
    expect(w.summary()?.p50Ms).toBe(10)
    w.record(30, 1)
    w.record(50, 1)
    // The window keeps the last 3 calls: 40/2, 30, 50.
    expect(w.summary()).toEqual({ calls: 4, p50Ms: 40, p50MsPerRow: 30 })
  })
})
