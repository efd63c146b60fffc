import { describe, expect, it } from 'vitest'
import { cand, seeded, stats } from './scheduler-fixtures.js'
import { candidateCost, chooseCandidate } from '../../../src/offload/scheduler.js'
import type { Candidate, SchedulerStats } from '../../../src/offload/scheduler.js'


function tally (candidates: Candidate[], s: SchedulerStats, draws = 2000): Record<string, number> {
  const random = seeded(42)
  const out: Record<string, number> = {}
  for (let i = 0; i < draws; i++) {
    const id = chooseCandidate(candidates, s, random)?.candidate.peerId ?? 'none'
    out[id] = (out[id] ?? 0) + 1
  }
  return out
}

const self = cand('self', { local: true, capacity: 2 })

describe('candidateCost', () => {
  it('grows with load relative to capacity and uses the prior for unknown peers', () => {
    const s = stats({ latencyMs: new Map([['a', 10]]) })
    expect(candidateCost(cand('a'), s)).toBe(10)
    expect(candidateCost(cand('a', { inFlight: 1, queued: 1, capacity: 2 }), s)).toBe(20)
    expect(candidateCost(cand('unknown'), s)).toBe(50)
  })

  it('counts this node\'s outstanding requests, training, cpu and a fetch penalty', () => {
    const base = candidateCost(cand('a'), stats())
    expect(candidateCost(cand('a'), stats({ outstanding: new Map([['a', 1]]) }))).toBe(2 * base)
    expect(candidateCost(cand('a', { training: true }), stats())).toBe(2 * base)
    expect(candidateCost(cand('a', { cpu: 1 }), stats())).toBe(1.5 * base)
    expect(candidateCost(cand('a', { hasModel: false }), stats())).toBe(base + 2000)
  })
})

describe('chooseCandidate', () => {
  it('counts this node\'s attempts that have not reached its engine yet (a burst chosen in one tick)', () => {
    const s = stats({ latencyMs: new Map([['self', 10], ['a', 10]]) })
    const lone = cand('self', { local: true, capacity: 1 })
    expect(chooseCandidate([lone, cand('a')], s, seeded(1))?.candidate.peerId).toBe('self')
    const burst = stats({ latencyMs: s.latencyMs, outstanding: new Map([['self', 3]]) })
    expect(candidateCost(lone, burst)).toBe(40)
    expect(chooseCandidate([lone, cand('a')], burst, seeded(1))?.candidate.peerId).toBe('a')
    // Live counters that already include those attempts are not counted twice.
    expect(candidateCost(cand('self', { local: true, capacity: 1, inFlight: 1, queued: 2 }), burst)).toBe(40)
  })

  it('keeps an idle local node that is not dearer than the peers', () => {
    const s = stats({ latencyMs: new Map([['self', 10], ['a', 10], ['b', 12]]) })
    const choice = chooseCandidate([self, cand('a'), cand('b')], s, seeded(1))
    expect(choice?.candidate.peerId).toBe('self')
    expect(choice?.reason).toBe('local-idle')
  })

  it('sends work from a busy local node to an idle peer', () => {
    const busy = { ...self, inFlight: 2, queued: 6 }
    const s = stats({ latencyMs: new Map([['self', 10], ['a', 10]]) })
    expect(tally([busy, cand('a')], s, 100)).toEqual({ a: 100 })
  })

  it('avoids a peer whose peak-EWMA latency is high', () => {
    const s = stats({ latencyMs: new Map([['fast', 10], ['slow', 400]]) })
    expect(tally([cand('fast'), cand('slow')], s, 200)).toEqual({ fast: 200 })
  })

  it('favours cheap candidates over many draws (power of two choices)', () => {
    const peers = Array.from({ length: 10 }, (_, i) => cand(`p${i}`))
    const latencyMs = new Map(peers.map((p, i) => [p.peerId, 10 + i * 10]))
    const counts = tally(peers, stats({ latencyMs }), 5000)
    // cheapest is chosen whenever sampled: about 2/n of the draws; the dearest never.
    expect(counts.p0).toBeGreaterThan(counts.p5)
    expect(counts.p5).toBeGreaterThan(counts.p8)
    expect(counts.p9).toBeUndefined()
    expect(counts.p0 / 5000).toBeGreaterThan(0.15)
  })

  it('skips peers in backoff but never this node', () => {
    const s = stats({ backedOff: new Set(['a', 'self']), latencyMs: new Map([['a', 1], ['b', 100], ['self', 500]]) })
    const busySelf = { ...self, inFlight: 2 }
    const counts = tally([busySelf, cand('a'), cand('b')], s, 200)
    expect(counts.a).toBeUndefined()
    expect((counts.b ?? 0) + (counts.self ?? 0)).toBe(200)
    expect(chooseCandidate([cand('a')], s, seeded(1))).toBeUndefined()
  })

  it('avoids candidates tried for this request unless none is left', () => {
    const s = stats({ tried: new Set(['a']), latencyMs: new Map([['a', 1], ['b', 100]]) })
    expect(chooseCandidate([cand('a'), cand('b')], s, seeded(3))?.candidate.peerId).toBe('b')
    expect(chooseCandidate([cand('a')], s, seeded(3))?.candidate.peerId).toBe('a')
  })

  it('prefer local uses only this node', () => {
    const busySelf = { ...self, inFlight: 10 }
    const s = stats({ prefer: 'local' })
    expect(tally([busySelf, cand('a')], s, 50)).toEqual({ self: 50 })
    expect(chooseCandidate([cand('a')], s, seeded(1))).toBeUndefined()
  })

  it('prefer remote uses peers, and this node only when no peer is eligible', () => {
    const s = stats({ prefer: 'remote', latencyMs: new Map([['self', 1]]) })
    expect(tally([self, cand('a'), cand('b')], s, 100).self).toBeUndefined()
    const fallback = chooseCandidate([self, cand('a')], stats({ prefer: 'remote', backedOff: new Set(['a']) }), seeded(1))
    expect(fallback?.candidate.peerId).toBe('self')
    expect(fallback?.reason).toBe('fallback')
    expect(chooseCandidate([self], stats({ prefer: 'remote' }), seeded(1))?.reason).toBe('fallback')
  })

  it('chooses a candidate that must fetch the model only when holders are saturated or absent', () => {
    const holder = cand('h', { capacity: 1 })
    const fetcher = cand('f', { hasModel: false, capacity: 4 })
    const lat = new Map([['h', 100], ['f', 100]])
    expect(tally([holder, fetcher], stats({ latencyMs: lat }), 100)).toEqual({ h: 100 })
    const overloaded = { ...holder, inFlight: 1, queued: 40 }
    expect(tally([overloaded, fetcher], stats({ latencyMs: lat }), 100)).toEqual({ f: 100 })
    expect(chooseCandidate([fetcher], stats(), seeded(1))?.candidate.peerId).toBe('f')
  })

  it('returns undefined when there is no candidate', () => {
    expect(chooseCandidate([], stats(), seeded(1))).toBeUndefined()
  })
})
