/**
 * `runFederated`: drive a Strategy over any Grid for a number of rounds.
 * Each round samples clients (seeded), trains them in parallel through the
 * grid under a per-attempt deadline, validates the updates, aggregates,
 * registers the new global model, evaluates it, checkpoints and reports a
 * RoundRecord. Rounds with too few updates are retried, then the run aborts
 * with `RoundAbortedError`.
 */
import { logger } from '@libp2p/logger'
import { InvalidConfigError, RoundAbortedError } from '../errors.js'
import { collectAttempt } from './collect.js'
import {
  DEFAULT_FRACTION, DEFAULT_MAX_BUFFERED_UPDATES, DEFAULT_MAX_ROUND_RETRIES, DEFAULT_MIN_PARTICIPANTS, DEFAULT_ROUND_DEADLINE_MS, DEFAULT_SEED
} from './constants.js'
import { createRng } from './rng.js'
import { planSampling, roundSampleSize } from './sampling.js'
import { initialRoundState, roundReducer } from './round.js'
import { validateUpdate } from './weights/validate.js'
import { checkBufferedUpdates, isStreaming } from './streaming.js'
import type { Checkpoint } from './checkpoint.js'
import type { RoundState } from './round.js'
import type { FederatedRunOptions, FederatedRunResult, RoundRecord } from './run-types.js'
import type { ClientFailure, RoundContext } from './strategy.js'
import type { Rng } from './rng.js'
import type { WeightRecord } from '../model/types.js'
import type { Logger } from '@libp2p/interface'

/** The options with the logger and sampling resolved. */
type RunOptions = FederatedRunOptions & { log: Logger, everySampled?: boolean }

export { roundSampleSize }

interface RunState {
  round: RoundState
  rng: Rng
  weights: WeightRecord
  globalModelId: string
  modelVersion: number
  records: RoundRecord[]
}

function checkOptions (o: FederatedRunOptions): void {
  if (!Number.isInteger(o.rounds) || o.rounds < 0) throw new InvalidConfigError(`rounds must be an integer >= 0, got ${o.rounds}`)
  const c = o.fraction ?? 1
  if (!(c > 0 && c <= 1)) throw new InvalidConfigError(`fraction C must be in (0, 1], got ${c}`)
  const min = o.minParticipants ?? 1
  if (!Number.isInteger(min) || min < 1) throw new InvalidConfigError(`minParticipants must be an integer >= 1, got ${min}`)
  const deadline = o.roundDeadlineMs ?? DEFAULT_ROUND_DEADLINE_MS
  if (!(deadline > 0)) throw new InvalidConfigError(`roundDeadlineMs must be > 0, got ${deadline}`)
}

async function restore (o: RunOptions): Promise<RunState> {
  const rules = { minParticipants: o.minParticipants, maxRetries: o.maxRoundRetries ?? DEFAULT_MAX_ROUND_RETRIES }
  const saved = await o.checkpoint?.load({ signal: o.signal })
  if (saved === undefined) {
    return { round: initialRoundState(rules), rng: createRng(o.seed ?? DEFAULT_SEED), weights: o.initialWeights, globalModelId: o.baseModelId, modelVersion: 0, records: [] }
  }
  validateUpdate(o.initialWeights, saved.weights)
  const info = await o.runtime.createFromWeights(o.baseModelId, saved.weights, { name: `federated-round-${saved.state.completedRounds}` })
  o.log('resuming after round %d (global %s)', saved.state.completedRounds, info.id)
  return {
    round: initialRoundState(rules, saved.state.completedRounds),
    rng: createRng(saved.state.rngState),
    weights: saved.weights,
    globalModelId: info.id,
    modelVersion: saved.state.modelVersion,
    records: saved.state.records
  }
}

/** Run one round to completion (with retries), advancing `run` in place; returns the round's record. */
async function runRound (o: RunOptions, run: RunState, round: number): Promise<RoundRecord> {
  const started = performance.now()
  const failures: ClientFailure[] = []
  let bytesUp = 0
  let bytesDown = 0
  for (;;) {
    const clients = o.grid.clients()
    const ctx: RoundContext = {
      round,
      attempt: run.round.phase === 'retry' ? run.round.attempt + 1 : 1,
      global: run.weights,
      clients,
      sampleSize: o.everySampled === true ? clients.length : roundSampleSize(clients.length, o.fraction ?? DEFAULT_FRACTION, o.minParticipants ?? DEFAULT_MIN_PARTICIPANTS),
      rng: run.rng,
      seed: o.seed ?? DEFAULT_SEED,
      log: o.log
    }
    checkBufferedUpdates(o.strategy, ctx.sampleSize, o.maxBufferedUpdates ?? DEFAULT_MAX_BUFFERED_UPDATES)
    const instructions = o.strategy.configureRound(ctx)
    const fold = isStreaming(o.strategy) ? o.strategy.fold(ctx) : undefined
    const outcome = await (o.collect ?? collectAttempt)({
      fold,
      grid: o.grid,
      state: run.round,
      instructions,
      request: { round, modelVersion: run.modelVersion, baseModelId: o.baseModelId, weights: run.weights },
      deadlineMs: o.roundDeadlineMs ?? DEFAULT_ROUND_DEADLINE_MS,
      minParticipants: o.everySampled === true ? Math.max(1, instructions.length) : undefined,
      signal: o.signal,
      log: o.log
    })
    run.round = outcome.state
    failures.push(...outcome.failures)
    bytesUp += outcome.bytesUp
    bytesDown += outcome.bytesDown
    if (run.round.phase === 'aborted') throw new RoundAbortedError(run.round.abortReason ?? `round ${round} aborted`)
    if (run.round.phase === 'retry') {
      o.log('%s; retrying', run.round.abortReason)
      continue
    }
    const weights = fold !== undefined ? fold.result() : await o.strategy.aggregate(ctx, outcome.updates, outcome.failures)
    validateUpdate(run.weights, weights)
    const info = await o.runtime.createFromWeights(o.baseModelId, weights, { name: `federated-round-${round}` })
    run.round = roundReducer(run.round, { type: 'aggregated', round })
    if (o.keepModels !== true && run.globalModelId !== o.baseModelId && run.globalModelId !== info.id) o.runtime.unload?.(run.globalModelId)
    run.weights = weights
    run.globalModelId = info.id
    run.modelVersion++
    const evaluation = await o.evaluate(weights, { signal: o.signal })
    return {
      round,
      accuracy: evaluation.accuracy,
      loss: evaluation.loss,
      participants: outcome.participantIds?.length ?? outcome.updates.length,
      participantIds: outcome.participantIds ?? outcome.updates.map((u) => u.clientId),
      failures: failures.length,
      failureReasons: failures,
      attempts: run.round.attempt,
      wallMs: performance.now() - started,
      bytesUp,
      bytesDown,
      globalModelId: info.id,
      slowestTrainMs: Math.max(0, ...outcome.updates.map((u) => u.metrics.trainMs)),
      ...privacyOf(o)
    }
  }
}

function privacyOf (o: FederatedRunOptions): Pick<RoundRecord, 'privacy'> {
  const privacy = o.strategy.privacy?.last()
  return privacy === undefined ? {} : { privacy }
}

/** True when the strategy's privacy budget does not allow the next round. */
function budgetExhausted (o: FederatedRunOptions): boolean {
  if (o.strategy.privacy === undefined) return false
  const k = o.grid.clients().length
  const m = roundSampleSize(k, o.fraction ?? DEFAULT_FRACTION, o.minParticipants ?? DEFAULT_MIN_PARTICIPANTS)
  return o.strategy.privacy.exhausted(k === 0 ? 1 : m / k)
}

function checkpointOf (run: RunState): Checkpoint {
  return {
    state: {
      version: 1,
      completedRounds: run.round.round,
      modelVersion: run.modelVersion,
      globalModelId: run.globalModelId,
      rngState: run.rng.state(),
      records: run.records
    },
    weights: run.weights
  }
}

/**
 * Run federated training for `rounds` rounds (resuming from `checkpoint` when
 * it holds a run) and return every round's record and the final weights.
 *
 * @throws RoundAbortedError when a round gets too few updates after its retries, or `signal` aborts
 *
 * @example
 * ```ts
 * const result = await runFederated({
 *   grid, strategy: createStrategy('fedavg'), runtime, baseModelId: info.id,
 *   initialWeights: runtime.getWeights(info.id), rounds: 10, fraction: 0.1,
 *   evaluate: async (w) => runtime.evaluate(info.id, w, testSet)
 * })
 * ```
 */
export async function runFederated (runOptions: FederatedRunOptions): Promise<FederatedRunResult> {
  checkOptions(runOptions)
  const options: RunOptions = { ...runOptions, log: runOptions.log ?? logger('edge-mesh:federated:run') }
  // Unset fraction and min participants are resolved once, from the clients available now (sampling.ts).
  const plan = planSampling(options.grid.clients().length, runOptions.fraction, runOptions.minParticipants)
  options.fraction = plan.fraction
  options.minParticipants = plan.minParticipants
  options.everySampled = plan.everySampled
  options.log('sampling: %s', plan.reason)
  options.onPlan?.(plan)
  const run = await restore(options)
  const resumedRounds = run.round.round
  options.strategy.privacy?.restore(run.records)
  if (resumedRounds === 0 && options.onInitial !== undefined) options.onInitial(await options.evaluate(run.weights, { signal: options.signal }))
  for (let round = resumedRounds + 1; round <= options.rounds; round++) {
    options.signal?.throwIfAborted()
    if (budgetExhausted(options)) {
      options.log('stopping before round %d: it would pass the target epsilon', round)
      return { records: run.records, weights: run.weights, globalModelId: run.globalModelId, resumedRounds, stopReason: 'target-epsilon' }
    }
    const record = await runRound(options, run, round)
    run.records = [...run.records, record]
    options.log('round %d: accuracy %d, %d updates, %d failures', round, record.accuracy, record.participants, record.failures)
    await options.checkpoint?.save(checkpointOf(run), { signal: options.signal })
    options.onRound?.(record)
  }
  return { records: run.records, weights: run.weights, globalModelId: run.globalModelId, resumedRounds }
}
