/**
 * The round state machine as a pure function `(state, event) => state`.
 * Timers, training and I/O live in `run.ts`; this file only decides.
 *
 * Phases: `open` (collecting updates) -> `aggregating` (enough updates
 * arrived) -> `complete`; or `open` -> `retry` (too few updates, retries
 * left; the next `round-started` opens a new attempt) -> ...; or `aborted`.
 *
 * Rules:
 * - an update for a round that is not open (or another round) is rejected with `LateUpdateError`;
 * - a client is counted at most once per attempt (update, rejection or failure);
 * - only the attempt's participants count;
 * - `round-started` may set the attempt's `minParticipants` (a run that needs every sampled client);
 * - when every participant has answered, or the deadline passes, the round closes:
 *   with >= `minParticipants` accepted updates it aggregates what arrived; with
 *   fewer it retries up to `maxRetries` times, then aborts with a reason.
 */
import { InvalidUpdateError, LateUpdateError } from '../errors.js'
import { DEFAULT_MAX_ROUND_RETRIES, DEFAULT_MIN_PARTICIPANTS } from './constants.js'

export type RoundPhase = 'idle' | 'open' | 'aggregating' | 'retry' | 'complete' | 'aborted'

/** A participant's answer that did not become an accepted update. */
export interface RoundFailure {
  clientId: string
  reason: string
}

export interface RoundState {
  readonly round: number
  /** Attempt of the current round, from 1. */
  readonly attempt: number
  readonly phase: RoundPhase
  readonly participants: readonly string[]
  readonly accepted: readonly string[]
  readonly failures: readonly RoundFailure[]
  readonly minParticipants: number
  readonly maxRetries: number
  /** Why the run aborted, when `phase` is `aborted`. */
  readonly abortReason?: string
  /** The error of the last event when that event was refused (not applied). */
  readonly lastRejection?: Error
}

export type RoundEvent =
  | { type: 'round-started', round: number, participants: readonly string[], minParticipants?: number }
  | { type: 'update-accepted', round: number, clientId: string }
  | { type: 'update-rejected', round: number, clientId: string, reason: string }
  | { type: 'client-failed', round: number, clientId: string, reason: string }
  | { type: 'deadline-passed', round: number }
  | { type: 'aggregated', round: number }
  | { type: 'stopped', reason: string }

export interface RoundRules {
  /** @default 2 */
  minParticipants?: number
  /** @default 2 */
  maxRetries?: number
}

/** The state before the first round, or after `completedRounds` rounds when a run resumes. */
export function initialRoundState (rules: RoundRules = {}, completedRounds = 0): RoundState {
  return {
    round: completedRounds,
    attempt: 0,
    phase: completedRounds > 0 ? 'complete' : 'idle',
    participants: [],
    accepted: [],
    failures: [],
    minParticipants: rules.minParticipants ?? DEFAULT_MIN_PARTICIPANTS,
    maxRetries: rules.maxRetries ?? DEFAULT_MAX_ROUND_RETRIES
  }
}

function refuse (state: RoundState, error: Error): RoundState {
  return { ...state, lastRejection: error }
}

/** Close the attempt: aggregate, retry or abort depending on how many updates arrived. */
function close (state: RoundState, why: string): RoundState {
  if (state.accepted.length >= state.minParticipants) return { ...state, phase: 'aggregating' }
  const summary = `round ${state.round} attempt ${state.attempt}: ${why} with ${state.accepted.length} of ${state.minParticipants} required updates` +
    (state.failures.length > 0 ? ` (failures: ${state.failures.map((f) => `${f.clientId}: ${f.reason}`).join('; ')})` : '')
  if (state.attempt <= state.maxRetries) return { ...state, phase: 'retry', abortReason: summary }
  return { ...state, phase: 'aborted', abortReason: `${summary}; gave up after ${state.maxRetries} retries` }
}

function answered (state: RoundState): number {
  return state.accepted.length + state.failures.length
}

function closeIfEveryoneAnswered (state: RoundState): RoundState {
  return answered(state) >= state.participants.length ? close(state, 'every participant answered') : state
}

function checkAnswer (state: RoundState, round: number, clientId: string): Error | undefined {
  if (state.phase !== 'open' || round !== state.round) {
    return new LateUpdateError(`update from ${clientId} for round ${round}: round ${state.round} is ${state.phase}`)
  }
  if (!state.participants.includes(clientId)) return new InvalidUpdateError(`${clientId} is not a participant of round ${round}`)
  if (state.accepted.includes(clientId) || state.failures.some((f) => f.clientId === clientId)) {
    return new InvalidUpdateError(`${clientId} already answered round ${round}`)
  }
  return undefined
}

function start (state: RoundState, round: number, participants: readonly string[], minParticipants = state.minParticipants): RoundState {
  const retry = state.phase === 'retry' && round === state.round
  if (!retry && (round !== state.round + 1 || !(state.phase === 'idle' || state.phase === 'complete'))) {
    return refuse(state, new InvalidUpdateError(`cannot start round ${round} while round ${state.round} is ${state.phase}`))
  }
  const next: RoundState = {
    ...state,
    round,
    attempt: retry ? state.attempt + 1 : 1,
    phase: 'open',
    participants: [...new Set(participants)],
    minParticipants,
    accepted: [],
    failures: [],
    abortReason: undefined,
    lastRejection: undefined
  }
  return next.participants.length === 0 ? close(next, 'no participants') : next
}

/** Apply one event. Refused events leave the state unchanged except for `lastRejection`. */
export function roundReducer (state: RoundState, event: RoundEvent): RoundState {
  const s: RoundState = state.lastRejection === undefined ? state : { ...state, lastRejection: undefined }
  switch (event.type) {
    case 'round-started':
      return start(s, event.round, event.participants, event.minParticipants)
    case 'update-accepted': {
      const err = checkAnswer(s, event.round, event.clientId)
      if (err !== undefined) return refuse(s, err)
      return closeIfEveryoneAnswered({ ...s, accepted: [...s.accepted, event.clientId] })
    }
    case 'update-rejected':
    case 'client-failed': {
      const err = checkAnswer(s, event.round, event.clientId)
      if (err !== undefined) return refuse(s, err)
      return closeIfEveryoneAnswered({ ...s, failures: [...s.failures, { clientId: event.clientId, reason: event.reason }] })
    }
    case 'deadline-passed':
      if (s.phase !== 'open' || event.round !== s.round) return s
      return close(s, 'deadline passed')
    case 'aggregated':
      if (s.phase !== 'aggregating' || event.round !== s.round) {
        return refuse(s, new InvalidUpdateError(`round ${event.round} cannot complete while round ${s.round} is ${s.phase}`))
      }
      return { ...s, phase: 'complete' }
    case 'stopped':
      if (s.phase === 'aborted') return s
      return { ...s, phase: 'aborted', abortReason: event.reason }
  }
}
