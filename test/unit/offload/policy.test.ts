import { describe, expect, it } from 'vitest'
import { cand, seeded, stats } from './scheduler-fixtures.js'
import { chooseByPolicy, INITIAL_POLICY_STATE } from '../../../src/offload/policy.js'
import { chooseCandidate } from '../../../src/offload/scheduler.js'
import type { PolicyState, SchedulingPolicy } from '../../../src/offload/policy.js'
import type { Candidate, SchedulerStats } from '../../../src/offload/scheduler.js'


/** The peer ids chosen by `draws` successive calls, threading the policy state. */
function run (policy: SchedulingPolicy, candidates: Candidate[], s: SchedulerStats, draws: number): string[] {
  const random = seeded(7)
  let state: PolicyState = INITIAL_POLICY_STATE
  const out: string[] = []
  for (let i = 0; i < draws; i++) {
    const next = chooseByPolicy(policy, candidates, s, random, state)
    state = next.state
    out.push(next.choice?.candidate.peerId ?? 'none')
  }
  return out
}

function tally (ids: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const id of ids) out[id] = (out[id] ?? 0) + 1
  return out
}

// 'a' is idle and fast, 'b' slow and loaded: the baselines must not care.
const skewed = stats({ latencyMs: new Map([['a', 5], ['b', 500], ['c', 5]]) })
const peers = [cand('c'), cand('b', { inFlight: 8, queued: 20 }), cand('a')]

describe('chooseByPolicy: round-robin', () => {
  it('cycles through the eligible candidates in peer id order, blind to load and latency', () => {
    expect(run('round-robin', peers, skewed, 7)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a'])
  })

  it('skips peers in backoff and, with a remote preference, this node', () => {
    const s = stats({ backedOff: new Set(['b']), prefer: 'remote' })
    const ids = run('round-robin', [cand('self', { local: true }), ...peers], s, 4)
    expect(ids).toEqual(['a', 'c', 'a', 'c'])
  })

  it('prefers holders of the model and reports its reason', () => {
    const choice = chooseByPolicy('round-robin', [cand('x', { hasModel: false }), cand('y')], stats(), seeded(1), INITIAL_POLICY_STATE)
    expect(choice.choice?.candidate.peerId).toBe('y')
    expect(choice.choice?.reason).toBe('round-robin')
    expect(choice.state.cursor).toBe(1)
  })
})

describe('chooseByPolicy: random', () => {
  it('spreads uniformly over the eligible candidates, blind to load and latency', () => {
    const counts = tally(run('random', peers, skewed, 3000))
    for (const id of ['a', 'b', 'c']) expect(counts[id]).toBeGreaterThan(850)
    expect(counts.none).toBeUndefined()
  })

  it('avoids peers already tried while others are left, and keeps its state', () => {
    const s = stats({ tried: new Set(['a', 'b']) })
    const next = chooseByPolicy('random', peers, s, seeded(3), INITIAL_POLICY_STATE)
    expect(next.choice?.candidate.peerId).toBe('c')
    expect(next.choice?.reason).toBe('only')
    expect(next.state).toBe(INITIAL_POLICY_STATE)
  })

  it('falls back to this node when no peer is eligible for a remote preference', () => {
    const s = stats({ backedOff: new Set(['a', 'b', 'c']), prefer: 'remote' })
    const next = chooseByPolicy('random', [cand('self', { local: true }), ...peers], s, seeded(3), INITIAL_POLICY_STATE)
    expect(next.choice?.candidate.peerId).toBe('self')
    expect(next.choice?.reason).toBe('fallback')
  })

  it('returns no choice when nothing is eligible', () => {
    const next = chooseByPolicy('random', [], stats(), seeded(3), INITIAL_POLICY_STATE)
    expect(next.choice).toBeUndefined()
  })
})

describe('chooseByPolicy: p2c', () => {
  it('is the cost-based scheduler', () => {
    const a = chooseByPolicy('p2c', peers, skewed, seeded(5), INITIAL_POLICY_STATE).choice
    expect(a).toEqual(chooseCandidate(peers, skewed, seeded(5)))
    const counts = tally(run('p2c', peers, skewed, 1000))
    expect(counts.b ?? 0).toBe(0)
  })
})

describe('chooseByPolicy: least-outstanding', () => {
  it('picks the peer with the fewest of this node\'s outstanding requests, blind to gossip and latency', () => {
    const s = stats({ outstanding: new Map([['a', 3], ['b', 0], ['c', 1]]), latencyMs: new Map([['b', 500]]) })
    const next = chooseByPolicy('least-outstanding', peers, s, seeded(2), INITIAL_POLICY_STATE)
    expect(next.choice?.candidate.peerId).toBe('b')
    expect(next.choice?.reason).toBe('least-outstanding')
  })

  it('breaks ties at random, and counts live work for this node', () => {
    const s = stats({ outstanding: new Map([['a', 1], ['b', 1], ['c', 1]]) })
    const counts = tally(run('least-outstanding', peers, s, 900))
    for (const id of ['a', 'b', 'c']) expect(counts[id]).toBeGreaterThan(200)
    const busySelf = cand('self', { local: true, inFlight: 2 })
    const choice = chooseByPolicy('least-outstanding', [busySelf, cand('a')], stats({ outstanding: new Map([['a', 1]]) }), seeded(1), INITIAL_POLICY_STATE)
    expect(choice.choice?.candidate.peerId).toBe('a')
  })
})
