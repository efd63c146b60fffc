import { describe, expect, it } from 'vitest'
import { initialRoundState, roundReducer } from '../../../src/federated/round.js'
import type { RoundEvent, RoundState } from '../../../src/federated/round.js'

function apply (state: RoundState, ...events: RoundEvent[]): RoundState {
  return events.reduce(roundReducer, state)
}

const started = (round = 1, participants = ['a', 'b', 'c']): RoundEvent => ({ type: 'round-started', round, participants })
const ok = (clientId: string, round = 1): RoundEvent => ({ type: 'update-accepted', round, clientId })

describe('round state machine', () => {
  it('opens, collects, aggregates once everyone answered, then completes', () => {
    let s = apply(initialRoundState({ minParticipants: 2 }), started(), ok('a'), ok('b'))
    expect(s.phase).toBe('open')
    s = apply(s, { type: 'client-failed', round: 1, clientId: 'c', reason: 'crashed' })
    expect(s.phase).toBe('aggregating')
    expect(s.accepted).toEqual(['a', 'b'])
    expect(s.failures).toEqual([{ clientId: 'c', reason: 'crashed' }])
    s = apply(s, { type: 'aggregated', round: 1 })
    expect(s.phase).toBe('complete')
    expect(apply(s, started(2)).phase).toBe('open')
  })

  it('rejects an update for a closed round with LateUpdateError', () => {
    const s = apply(initialRoundState({ minParticipants: 1 }), started(), ok('a'), { type: 'deadline-passed', round: 1 })
    expect(s.phase).toBe('aggregating')
    const late = roundReducer(s, ok('b'))
    expect(late.lastRejection?.name).toBe('LateUpdateError')
    expect(late.accepted).toEqual(['a'])
  })

  it('rejects an update for another round with LateUpdateError', () => {
    const s = apply(initialRoundState(), started(), ok('a', 0))
    expect(s.lastRejection?.name).toBe('LateUpdateError')
  })

  it('counts a client at most once', () => {
    const s = apply(initialRoundState(), started(), ok('a'), ok('a'))
    expect(s.accepted).toEqual(['a'])
    expect(s.lastRejection?.name).toBe('InvalidUpdateError')
    const failedThenUpdate = apply(initialRoundState(), started(), { type: 'client-failed', round: 1, clientId: 'b', reason: 'x' }, ok('b'))
    expect(failedThenUpdate.accepted).toEqual([])
    expect(failedThenUpdate.lastRejection?.name).toBe('InvalidUpdateError')
  })

  it('ignores clients that are not participants', () => {
    const s = apply(initialRoundState(), started(), ok('zed'))
    expect(s.accepted).toEqual([])
    expect(s.lastRejection?.name).toBe('InvalidUpdateError')
  })

  it('clears lastRejection on the next event', () => {
    const s = apply(initialRoundState(), started(), ok('zed'), ok('a'))
    expect(s.lastRejection).toBeUndefined()
  })

  it('aggregates what arrived when the deadline passes with enough updates', () => {
    const s = apply(initialRoundState({ minParticipants: 2 }), started(), ok('a'), ok('c'), { type: 'deadline-passed', round: 1 })
    expect(s.phase).toBe('aggregating')
    expect(s.accepted).toEqual(['a', 'c'])
  })

  it('retries after a deadline with too few updates, then aborts with a reason', () => {
    const rules = { minParticipants: 2, maxRetries: 2 }
    let s = apply(initialRoundState(rules), started(), ok('a'), { type: 'deadline-passed', round: 1 })
    expect(s.phase).toBe('retry')
    s = apply(s, started(1, ['b', 'c']))
    expect(s.phase).toBe('open')
    expect(s.attempt).toBe(2)
    expect(s.accepted).toEqual([])
    s = apply(s, { type: 'deadline-passed', round: 1 }, started(1, ['d']), { type: 'deadline-passed', round: 1 })
    expect(s.phase).toBe('aborted')
    expect(s.attempt).toBe(3)
    expect(s.abortReason).toMatch(/round 1 attempt 3: deadline passed with 0 of 2 required updates; gave up after 2 retries/)
  })

  it('closes at once when the round starts without participants', () => {
    expect(apply(initialRoundState({ maxRetries: 0 }), started(1, [])).phase).toBe('aborted')
  })

  it('refuses to start a round out of order', () => {
    const s = apply(initialRoundState(), started(2))
    expect(s.phase).toBe('idle')
    expect(s.lastRejection?.name).toBe('InvalidUpdateError')
    expect(apply(initialRoundState(), started(), started(2)).lastRejection?.name).toBe('InvalidUpdateError')
  })

  it('resumes after completed rounds', () => {
    const s = apply(initialRoundState({}, 4), started(5))
    expect(s.phase).toBe('open')
    expect(s.round).toBe(5)
  })

  it('stops on request', () => {
    const s = apply(initialRoundState(), started(), { type: 'stopped', reason: 'coordinator stopped' })
    expect(s.phase).toBe('aborted')
    expect(s.abortReason).toBe('coordinator stopped')
  })
})
