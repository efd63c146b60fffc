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
import { rootEpochs } from '../strategies/fltrust.js'
import { deriveSeed } from '../rng.js'
import { runFederated } from '../run.js'
import { withDp } from '../privacy/dp-strategy.js'
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
  /** Build the run's grid (the service routes PULL and PUSH to it). */
  openGrid(record: RunRecordFile): MeshGrid
  closeGrid(record: RunRecordFile): void
  /** Resolves when the grid has at least `n` clients; rejects after `timeoutMs` or on abort. */
  waitForClients(grid: MeshGrid, n: number, signal: AbortSignal): Promise<void>
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
const PUBLIC_ERRORS = new Set(['RoundAbortedError', 'DeadlineExceededError', 'RunCancelledError', 'ModelNotFoundError', 'InvalidUpdateError', 'StaleVersionError', 'LimitExceededError'])

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
    await ctx.waitForClients(grid, spec.waitForClients ?? spec.minParticipants ?? 2, signal)
    let bytes = { up: grid.bytesUp, down: grid.bytesDown }
    const inner = createStrategy(spec.strategy, {
      epochs: spec.epochs, batchSize: spec.batchSize, learningRate: spec.learningRate, proximalMu: spec.proximalMu,
      beta: spec.beta, f: spec.byzantineF, m: spec.krumM, trustWeighting: spec.trustWeighting,
      ...(spec.rootData === undefined ? {} : { rootUpdate: rootTrainer(ctx.models, record.baseModelId, await ctx.data(spec.rootData), spec.seed ?? 0) })
    })
    const strategy = spec.dp === undefined ? inner : withDp(inner, spec.dp)
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
      signal,
      log: ctx.log,
      onRound: (r) => {
        const now = { up: grid.bytesUp, down: grid.bytesDown }
        summary.history.push(roundSummary(r, { up: now.up - bytes.up, down: now.down - bytes.down }))
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
    ctx.changed(summary)
  } catch (err: any) {
    const cancelled = signal.reason instanceof RunCancelledError
    if (signal.aborted && !cancelled) throw err
    summary.state = cancelled ? 'cancelled' : err?.name === 'RoundAbortedError' || err?.name === 'DeadlineExceededError' ? 'aborted' : 'failed'
    summary.error = publicError(cancelled ? signal.reason : err)
    summary.finishedAt = Date.now()
    ctx.log('run %s %s: %s: %s', record.id, summary.state, err?.name, err?.message)
    ctx.changed(summary)
  } finally {
    grid.close(signal.reason instanceof RunCancelledError ? signal.reason : new DeadlineExceededError(`run ${record.id} ended`))
    ctx.closeGrid(record)
  }
}
