/**
 * The thin shell around the round state machine for one attempt: send the
 * instructions through the grid in parallel, validate what comes back, feed
 * events to `roundReducer`, and resolve as soon as the attempt closes
 * (everyone answered, or the deadline passed, or the caller aborted). It
 * never waits for a client after the attempt has closed; stragglers are
 * aborted and their late answers are refused with `LateUpdateError`.
 */
import { DeadlineExceededError } from '../errors.js'
import { encodedWeightRecordSize } from './weights/codec.js'
import { roundReducer } from './round.js'
import { validateUpdate } from './weights/validate.js'
import type { ClientUpdate, Grid, TrainRequest } from './grid.js'
import type { RoundEvent, RoundState } from './round.js'
import type { ClientFailure, Instruction } from './strategy.js'
import type { Logger } from '@libp2p/interface'
import type { UpdateFolder } from './streaming.js'

export interface AttemptInput {
  grid: Grid
  state: RoundState
  instructions: Instruction[]
  request: Omit<TrainRequest, 'config'>
  deadlineMs: number
  signal?: AbortSignal
  /** Fold each accepted update in as it arrives and keep it without its weights (streaming aggregation). */
  fold?: UpdateFolder
  /** Fewest updates this attempt needs, when not the run's (e.g. every sampled client). */
  minParticipants?: number
  /** The run's logger. @default none (nothing logged) */
  log?: Logger
}

export interface AttemptOutcome {
  state: RoundState
  /** Accepted updates in instruction order (with empty `weights` when they were folded). */
  updates: ClientUpdate[]
  /** Clients whose updates are in `updates`, when that differs from the updates' ids (a secure round returns one aggregated update). */
  participantIds?: string[]
  /** Every asked client without an accepted update, with the reason. */
  failures: ClientFailure[]
  bytesUp: number
  bytesDown: number
}

function describe (err: any): string {
  return `${String(err?.name ?? 'Error')}: ${String(err?.message ?? err)}`
}

/** Run one attempt of a round; resolves when the state machine closes it. */
export async function collectAttempt (input: AttemptInput): Promise<AttemptOutcome> {
  const { grid, instructions, request } = input
  const round = request.round
  let state = roundReducer(input.state, { type: 'round-started', round, participants: instructions.map((i) => i.clientId), minParticipants: input.minParticipants })
  if (state.lastRejection !== undefined) throw state.lastRejection
  const accepted = new Map<string, ClientUpdate>()
  const globalBytes = encodedWeightRecordSize(request.weights)
  let bytesUp = 0
  const controller = new AbortController()
  const signal = input.signal === undefined ? controller.signal : AbortSignal.any([input.signal, controller.signal])

  await new Promise<void>((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const finish = (): void => {
      clearTimeout(timer)
      input.signal?.removeEventListener('abort', onStop)
      controller.abort(new DeadlineExceededError(`round ${round} closed`))
      resolve()
    }
    const dispatch = (event: RoundEvent): boolean => {
      if (state.phase !== 'open') {
        input.log?.('round %d: ignoring %s after close', round, event.type)
        return false
      }
      state = roundReducer(state, event)
      if (state.lastRejection !== undefined) input.log?.('round %d: refused %s: %s', round, event.type, state.lastRejection.message)
      if (state.phase !== 'open') finish()
      return state.lastRejection === undefined
    }
    const onStop = (): void => { dispatch({ type: 'stopped', reason: `run aborted: ${describe(input.signal?.reason)}` }) }
    if (state.phase !== 'open') { finish(); return }
    input.signal?.addEventListener('abort', onStop, { once: true })
    if (input.signal?.aborted === true) { onStop(); return }
    timer = setTimeout(() => dispatch({ type: 'deadline-passed', round }), input.deadlineMs)
    for (const ins of instructions) {
      // an async wrapper turns a synchronous throw of grid.train into a failure
      const train = async (): Promise<ClientUpdate> => grid.train(ins.clientId, { ...request, config: ins.config }, { signal })
      train().then((update) => {
        bytesUp += update.bytes?.up ?? encodedWeightRecordSize(update.weights)
        try {
          validateUpdate(request.weights, update.weights, update.numExamples)
        } catch (err) {
          dispatch({ type: 'update-rejected', round, clientId: ins.clientId, reason: describe(err) })
          return
        }
        accepted.set(ins.clientId, { ...update, clientId: ins.clientId, weights: input.fold === undefined ? update.weights : [] })
        if (!dispatch({ type: 'update-accepted', round, clientId: ins.clientId })) accepted.delete(ins.clientId)
        else input.fold?.add(update)
      }, (err) => {
        dispatch({ type: 'client-failed', round, clientId: ins.clientId, reason: describe(err) })
      })
    }
  })

  const updates = instructions.flatMap((i) => accepted.get(i.clientId) ?? [])
  const failures: ClientFailure[] = [...state.failures]
  for (const ins of instructions) {
    if (!accepted.has(ins.clientId) && !failures.some((f) => f.clientId === ins.clientId)) {
      failures.push({ clientId: ins.clientId, reason: `DeadlineExceededError: no update within ${input.deadlineMs} ms` })
    }
  }
  return { state, updates, failures, bytesUp, bytesDown: globalBytes * instructions.length }
}
