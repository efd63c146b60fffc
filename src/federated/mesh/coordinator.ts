/**
 * The coordinator side of one run: wait for enough clients, drive
 * `runFederated` over the run's mesh grid with the chosen strategy and a
 * FileCheckpointStore in the run's directory (so a restarted coordinator
 * resumes from its last completed round), evaluate every global model on the
 * held-out data, keep the latest few globals loaded (they are announced in
 * gossip and servable by offload at once), and keep the RunSummary current.
 */
import { DeadlineExceededError, RunCancelledError } from '../../errors.js'
import { FileCheckpointStore } from '../checkpoint.js'
import { createStrategy } from '../strategies/create-strategy.js'
import { roundSummary } from './runs.js'
import { waitingForClients } from './service-helpers.js'
import { roundLogLine } from './round-log.js'
import { rootEpochs } from '../strategies/fltrust.js'
import { deriveSeed } from '../rng.js'
import { runFederated } from '../run.js'
import { withDp } from '../privacy/dp-strategy.js'
import { withUplinkAggregation } from '../privacy/sender-average.js'
import { secureCollect } from '../privacy/secagg/workflow.js'
import { withDistributedDp } from '../privacy/secagg/distributed-dp.js'
import type { SecAggTransport } from '../privacy/secagg/workflow.js'
import type { RootUpdate } from '../strategies/fltrust.js'
import type { HeadRun } from './head.js'
import type { MeshGrid } from './mesh-grid.js'
import type { RunFiles, RunRecordFile } from './runs.js'
import type { RunSummary } from './service-types.js'
import type { Dataset, ModelRuntime } from '../../model/types.js'
import type { Logger } from '@libp2p/interface'

export interface CoordinatorContext {
  models: ModelRuntime
  files: RunFiles
  log: Logger
  /** What a node's operator sees: run start, each round, the end (info level, printed by the node). */
  info: Logger
  /** Build the run's grid (the service routes PULL and PUSH to it). */
  openGrid(record: RunRecordFile): MeshGrid
  closeGrid(record: RunRecordFile): void
  /** How a secure run's coordinator reaches its clients for the secagg stages. */
  secAggTransport(record: RunRecordFile, grid: MeshGrid): SecAggTransport
  /** Resolves when the grid has at least `n` clients (calling `onWaiting` while fewer); rejects after `timeoutMs` or on abort. */
  waitForClients(grid: MeshGrid, n: number, signal: AbortSignal, onWaiting?: (have: number, n: number) => void): Promise<void>
  /** The run's summary changed (publish it, save it). */
  changed(summary: RunSummary): void
  /** Global models kept loaded per run. */
  keepGlobals: number
  /** A data set the coordinator holds itself (held-out, FLTrust root), by the run spec's reference: a declared dataset name or a built-in spec (`local-datasets.ts`). */
  data(ref: string): Promise<Dataset>
  /** The features of (the first `head.evalExamples` of) held-out data `ref` through a head run's frozen base. */
  features(head: HeadRun, ref: string, data: Dataset, signal: AbortSignal): Promise<Dataset>
}

/** Error names whose messages are safe to publish in a run summary (they never quote local files). */
const PUBLIC_ERRORS = new Set(['RoundAbortedError', 'SecAggThresholdError', 'DeadlineExceededError', 'RunCancelledError', 'ModelNotFoundError', 'InvalidUpdateError', 'StaleVersionError', 'LimitExceededError'])

/** What a run summary (gossiped to every node) may say about a failure: other messages stay in the local log. */
export function publicError (err: any): { name: string, message: string } {
  const name = String(err?.name ?? 'Error')
  if (PUBLIC_ERRORS.has(name)) return { name, message: String(err?.message ?? err) }
  return { name, message: 'the run failed on its coordinator (details in its log)' }
}

/** FLTrust's server update on the coordinator's root data: as many steps as the median client takes. */
function rootTrainer (models: ModelRuntime, baseId: string, root: Dataset, seed: number): RootUpdate {
  return async (ctx, train, clientExamples) => {
    const epochs = rootEpochs(train.epochs, clientExamples, root.count)
    return (await models.train(baseId, ctx.global, root, { ...train, epochs, seed: deriveSeed(seed, 3, ctx.round, ctx.attempt) })).weights
  }
}

/** Rebuild history rounds the summary lacks from the checkpoint (a crash between checkpoint and summary save). */
export async function restoreHistory (store: FileCheckpointStore, summary: RunSummary): Promise<void> {
  const saved = await store.load().catch(() => undefined)
  if (saved === undefined) return
  const known = new Set(summary.history.map((h) => h.round))
  for (const r of saved.state.records) if (!known.has(r.round)) summary.history.push(roundSummary(r))
  summary.history.sort((a, b) => a.round - b.round)
  summary.completedRounds = Math.max(summary.completedRounds, saved.state.completedRounds)
  summary.globalModelId = saved.state.globalModelId
}

/**
 * Run (or resume) `record` to its end, updating `summary` in place. When
 * `signal` aborts with a RunCancelledError the run ends `cancelled` (and is
 * never resumed); any other abort (the node stops) rethrows without marking
 * the run finished, so the next start resumes it.
 */
export async function coordinate (ctx: CoordinatorContext, record: RunRecordFile, summary: RunSummary, signal: AbortSignal): Promise<void> {
  const { spec } = record
  const store = new FileCheckpointStore(ctx.files.dir(record.id), ctx.log.newScope('checkpoint'))
  await restoreHistory(store, summary)
  const grid = ctx.openGrid(record)
  const globals: string[] = []
  try {
    const evalData = spec.evalData ?? 'mnist:test'
    const held = await ctx.data(evalData)
    const test = record.head === undefined ? held : await ctx.features(record.head, evalData, held, signal)
    await ctx.waitForClients(grid, spec.waitForClients ?? spec.minParticipants ?? 2, signal, (have, n) => {
      const waiting = waitingForClients(have, n)
      if (summary.waiting === waiting) return
      summary.waiting = waiting
      ctx.info('run %s %s', record.id, waiting)
      ctx.changed(summary)
    })
    if (summary.waiting !== undefined) {
      delete summary.waiting
      ctx.changed(summary)
    }
    let bytes = { up: grid.bytesUp, down: grid.bytesDown }
    const inner = createStrategy(spec.strategy, {
      epochs: spec.epochs, batchSize: spec.batchSize, learningRate: spec.learningRate, proximalMu: spec.proximalMu,
      beta: spec.beta, f: spec.byzantineF, m: spec.krumM, trustWeighting: spec.trustWeighting,
      ...(spec.rootData === undefined ? {} : { rootUpdate: rootTrainer(ctx.models, record.baseModelId, await ctx.data(spec.rootData), spec.seed ?? 0) })
    })
    // compression int8 under secure aggregation quantizes inside the mask ring (privacy/secagg/ring.ts)
    const secure = spec.secureAggregation === undefined ? undefined : { ...spec.secureAggregation, ...(spec.dp === undefined ? {} : { dp: spec.dp }), ...(spec.compression?.scheme === 'int8' ? { int8: true } : {}) }
    // under secure aggregation central DP's noise is added by the clients (distributed), the strategy only accounts it
    const strategy = withUplinkAggregation(spec.dp === undefined ? inner : secure !== undefined ? withDistributedDp(inner, spec.dp) : withDp(inner, spec.dp), spec.compression)
    const result = await runFederated({
      grid,
      strategy,
      runtime: ctx.models,
      baseModelId: record.baseModelId,
      initialWeights: ctx.models.getWeights(record.baseModelId),
      rounds: spec.rounds,
      fraction: spec.fraction,
      minParticipants: spec.minParticipants,
      roundDeadlineMs: spec.roundDeadlineMs,
      maxRoundRetries: spec.maxRoundRetries,
      evaluate: async (weights, options) => ctx.models.evaluate(record.baseModelId, weights, test, options),
      checkpoint: store,
      seed: spec.seed,
      keepModels: true,
      ...(secure === undefined ? {} : { collect: secureCollect(ctx.secAggTransport(record, grid), secure, spec.seed ?? 0) }),
      signal,
      log: ctx.log,
      onInitial: (evaluation) => {
        summary.initial = { accuracy: evaluation.accuracy, loss: evaluation.loss }
        ctx.info('run %s round 0 (initial model): accuracy %s, loss %s', record.id, evaluation.accuracy.toFixed(4), evaluation.loss.toFixed(4))
        ctx.changed(summary)
      },
      onPlan: (plan) => {
        summary.sampling = plan.reason
        ctx.info('run %s: %d rounds of %s; %s', record.id, spec.rounds, spec.strategy, plan.reason)
        ctx.changed(summary)
      },
      onRound: (r) => {
        const now = { up: grid.bytesUp, down: grid.bytesDown }
        const round = roundSummary(r, { up: now.up - bytes.up, down: now.down - bytes.down })
        ctx.info('%s', roundLogLine(record.id, spec.rounds, round))
        summary.history.push(round)
        bytes = now
        summary.completedRounds = r.round
        summary.globalModelId = r.globalModelId
        if (spec.dp !== undefined && r.privacy !== undefined) summary.privacy = { ...spec.dp, epsilon: r.privacy.epsilon }
        globals.push(r.globalModelId)
        while (globals.length > ctx.keepGlobals) {
          const old = globals.shift() as string
          if (old !== record.baseModelId && !globals.includes(old)) ctx.models.unload(old)
        }
        ctx.changed(summary)
      }
    })
    summary.state = 'completed'
    if (result.stopReason !== undefined) summary.stopReason = result.stopReason
    summary.globalModelId = result.globalModelId
    summary.finishedAt = Date.now()
    ctx.info('run %s completed %d rounds; global model %s', record.id, summary.completedRounds, summary.globalModelId)
    ctx.changed(summary)
  } catch (err: any) {
    const cancelled = signal.reason instanceof RunCancelledError
    if (signal.aborted && !cancelled) throw err
    delete summary.waiting
    summary.state = cancelled ? 'cancelled' : err?.name === 'RoundAbortedError' || err?.name === 'DeadlineExceededError' ? 'aborted' : 'failed'
    summary.error = publicError(cancelled ? signal.reason : err)
    summary.finishedAt = Date.now()
    ctx.info('run %s %s after %d of %d rounds: %s: %s', record.id, summary.state, summary.completedRounds, spec.rounds, err?.name, err?.message)
    ctx.changed(summary)
  } finally {
    grid.close(signal.reason instanceof RunCancelledError ? signal.reason : new DeadlineExceededError(`run ${record.id} ended`))
    ctx.closeGrid(record)
  }
}
