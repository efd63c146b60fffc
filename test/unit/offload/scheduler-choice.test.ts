/** The scheduler's choice among few holders (all compared) and many (two sampled, as the load probe asks). */
import { describe, expect, it } from 'vitest'
import { chooseCandidate, samplePair } from '../../../src/offload/scheduler.js'
import type { Candidate, SchedulerStats } from '../../../src/offload/scheduler.js'

function cand (peerId: string, over: Partial<Candidate> = {}): Candidate {
  return { peerId, local: false, hasModel: true, inFlight: 0, queued: 0, capacity: 1, cpu: 0, training: false, ...over }
}

function stats (over: Partial<SchedulerStats> = {}): SchedulerStats {
  return { latencyMs: new Map(), outstanding: new Map(), backedOff: new Set(), tried: new Set(), prefer: 'remote', ...over }
}

describe('scheduler choice', () => {
  it('with few holders compares them all: the cheapest wins whatever the random draw', () => {
    const peers = [cand('a', { queued: 3 }), cand('b', { queued: 2 }), cand('c'), cand('d', { queued: 1 })]
    for (const r of [0, 0.3, 0.6, 0.99]) expect(chooseCandidate(peers, stats(), () => r)?.candidate.peerId).toBe('c')
  })

  it('weighs latency with load: an idle slow peer loses to a fast one with less work than its slowness', () => {
    const latencyMs = new Map([['fast', 100], ['slow', 400]])
    const choice = chooseCandidate([cand('fast', { inFlight: 1, queued: 1 }), cand('slow')], stats({ latencyMs }), () => 0)
    expect(choice?.candidate.peerId).toBe('fast')
  })

  it('samples no pair for few holders and two distinct holders for many', () => {
    expect(samplePair([cand('a'), cand('b')], stats(), Math.random)).toEqual([])
    const many = Array.from({ length: 20 }, (_, i) => cand(`p${i}`))
    const pair = samplePair([cand('self', { local: true }), ...many], stats(), Math.random)
    expect(pair).toHaveLength(2)
    expect(pair[0].peerId).not.toBe(pair[1].peerId)
    expect(pair.every(c => !c.local)).toBe(true)
  })
})
