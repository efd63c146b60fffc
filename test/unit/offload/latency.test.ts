import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { currentLatency, LatencyWindow, observeLatency } from '../../../src/offload/latency.js'
import { depositHedge, emptyHedgeBudget, withdrawHedge } from '../../../src/offload/hedge.js'

const tau = 10_000

describe('peak EWMA', () => {
  it('starts at the first sample and jumps up at once to a higher one', () => {
    let s = observeLatency(undefined, 20, 0, tau)
    expect(s.estimateMs).toBe(20)
    s = observeLatency(s, 500, 1, tau)
    expect(s.estimateMs).toBe(500)
  })

  it('decays toward lower samples with time constant tau', () => {
    const s = observeLatency(undefined, 100, 0, tau)
    expect(observeLatency(s, 0, tau, tau).estimateMs).toBeCloseTo(100 * Math.exp(-1), 6)
    expect(observeLatency(s, 0, 100 * tau, tau).estimateMs).toBeCloseTo(0, 6)
    // Samples at the same instant still weigh the floor (0.25), and nothing with a floor of 0.
    expect(observeLatency(s, 0, 0, tau).estimateMs).toBeCloseTo(75, 6)
    expect(observeLatency(s, 0, 0, tau, 0).estimateMs).toBe(100)
    expect(observeLatency(s, 0, 100 * tau, tau).estimateMs).toBeCloseTo(0, 6)
  })

  it('stays between the lowest and highest sample', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.double({ min: 0, max: 1e4, noNaN: true }), fc.integer({ min: 0, max: 5000 })), { minLength: 1, maxLength: 50 }), (samples) => {
      let s
      let now = 0
      for (const [ms, dt] of samples) { now += dt; s = observeLatency(s, ms, now, tau) }
      const values = samples.map(([ms]) => ms)
      expect(s?.estimateMs).toBeGreaterThanOrEqual(Math.min(...values) - 1e-9)
      expect(s?.estimateMs).toBeLessThanOrEqual(Math.max(...values) + 1e-9)
    }))
  })

  it('relaxes toward the prior without samples, and is the prior when unknown', () => {
    const s = observeLatency(undefined, 1000, 0, tau)
    expect(currentLatency(undefined, 0, tau, 50)).toBe(50)
    expect(currentLatency(s, 0, tau, 50)).toBe(1000)
    expect(currentLatency(s, 100 * tau, tau, 50)).toBeCloseTo(50, 6)
  })
})

describe('LatencyWindow', () => {
  it('reports percentiles within the histogram precision', () => {
    const w = new LatencyWindow()
    for (let ms = 1; ms <= 1000; ms++) w.record(ms, 0)
    expect(w.count(0)).toBe(1000)
    for (const [q, exact] of [[0.5, 500], [0.95, 950], [0.99, 990]]) {
      const p = w.percentile(q, 0) ?? 0
      expect(p).toBeGreaterThanOrEqual(exact * 0.999)
      expect(p).toBeLessThanOrEqual(exact * 1.05)
    }
    expect(w.percentile(1, 0)).toBe(1000)
  })

  it('is empty at first and forgets samples older than the window', () => {
    const w = new LatencyWindow({ windowMs: 60_000, slots: 6 })
    expect(w.percentile(0.5, 0)).toBeUndefined()
    w.record(900, 0)
    w.record(10, 30_000)
    expect(w.percentile(1, 30_000)).toBe(900)
    expect(w.percentile(1, 65_000)).toBe(10)
    expect(w.count(95_000)).toBe(0)
  })

  it('keeps bounded memory whatever the number of samples', () => {
    const w = new LatencyWindow()
    for (let i = 0; i < 100_000; i++) w.record(i % 5000, i)
    expect(w.count(100_000)).toBeGreaterThan(0)
    expect(w.percentile(0.5, 100_000)).toBeLessThan(5000 * 1.05)
  })

  it('ignores non-finite samples', () => {
    const w = new LatencyWindow()
    w.record(Number.NaN, 0)
    w.record(Number.POSITIVE_INFINITY, 0)
    expect(w.count(0)).toBe(0)
  })
})

describe('hedge budget', () => {
  it('never allows more hedges than 5 % of requests', () => {
    fc.assert(fc.property(fc.array(fc.boolean(), { maxLength: 2000 }), (wants) => {
      let b = emptyHedgeBudget()
      let hedges = 0
      wants.forEach((want) => {
        b = depositHedge(b)
        if (!want) return
        const r = withdrawHedge(b)
        b = r.budget
        if (r.granted) hedges++
      })
      expect(hedges).toBeLessThanOrEqual(Math.floor(wants.length * 0.05))
    }))
  })

  it('grants a hedge every 20 requests when always asked', () => {
    let b = emptyHedgeBudget()
    let hedges = 0
    for (let i = 0; i < 1000; i++) {
      b = depositHedge(b)
      const r = withdrawHedge(b)
      b = r.budget
      if (r.granted) hedges++
    }
    expect(hedges).toBe(50)
  })
})
