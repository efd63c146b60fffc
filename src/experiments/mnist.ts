/**
 * The MNIST experiment of McMahan et al. on edge-mesh: K clients share the
 * first 8,000 digits of `loadMnist()` (partitioned iid, noniid or
 * Dirichlet), a 784-200-200-10 MLP is trained with a strategy for R rounds,
 * and every new global model is evaluated on the held-out digits
 * 8,000..9,999. In `simulate` mode the clients are virtual (memory grid over
 * one shared runtime); pass `grid` to run the same experiment over another
 * Grid (e.g. mesh peers). Writes `rounds.csv` and `accuracy.svg` when `outDir` is set.
 */
import { logger } from '@libp2p/logger'
import { InvalidConfigError } from '../errors.js'
import { createModelRuntime } from '../model/index.js'
import { loadMnist, sliceDataset, subsetDataset } from '../model/datasets.js'
import { parseAttack } from '../federated/simulation/attacks.js'
import { DEFAULT_ACCURACY_TARGETS, DEFAULT_BATCH_SIZE, DEFAULT_EPOCHS, DEFAULT_LEARNING_RATE, DEFAULT_ROOT_EXAMPLES, DEFAULT_SEED } from '../federated/constants.js'
import { createStrategy } from '../federated/strategies/create-strategy.js'
import { MNIST_TRAIN_END } from '../federated/mesh/data-spec.js'
import { initialRecord, roundsToTargets } from './csv.js'
export { roundsToTargets } from './csv.js'
import { ExperimentOutputs } from './outputs.js'
import { rootEpochs } from '../federated/strategies/fltrust.js'
import { createMemoryGrid } from '../federated/simulation/memory-grid.js'
import { partitionIndices } from '../federated/partition.js'
import { settingsLine } from './plot.js'
import { createRng, deriveSeed } from '../federated/rng.js'
import { runFederated } from '../federated/run.js'
import { parseDpOptions } from '../federated/privacy/dp-options.js'
import { withDp } from '../federated/privacy/dp-strategy.js'
import { withClientPipeline } from '../federated/privacy/client-pipeline.js'
import { parseCompression } from '../federated/privacy/compression.js'
import { withUplinkAggregation } from '../federated/privacy/sender-average.js'
import type { Compression } from '../federated/privacy/compression.js'
import { withSecureAggregation } from '../federated/privacy/secure-strategy.js'
import type { DpOptions } from '../federated/privacy/dp-options.js'
import type { SecureAggregationInit } from '../federated/privacy/secure-strategy.js'
import type { AttackName } from '../federated/simulation/attacks.js'
import type { CheckpointStore } from '../federated/checkpoint.js'
import type { StrategyName, StrategyOptions } from '../federated/strategies/create-strategy.js'
import type { RootUpdate } from '../federated/strategies/fltrust.js'
import type { Grid } from '../federated/grid.js'
import type { VirtualClient } from '../federated/simulation/memory-grid.js'
import type { RoundRecord } from '../federated/run-types.js'
import type { SamplingPlan } from '../federated/sampling.js'
import type { AbortOptions, Logger } from '@libp2p/interface'
import type { Dataset, ModelRuntime } from '../model/types.js'

export interface MnistExperimentOptions extends AbortOptions {
  /** The caller's logger. @default `edge-mesh:experiment` */
  log?: Logger
  /** Only `simulate` runs here; mesh mode passes its own `grid`. @default 'simulate' */
  mode?: 'simulate' | 'mesh'
  /** Clients K (virtual clients in simulate mode). @default 100 */
  clients?: number
  /** Fraction C per round. @default 1 with at most 10 clients, else 0.1 (federated/sampling.ts) */
  fraction?: number
  epochs?: number
  batchSize?: number
  /** Rounds R. @default 20 */
  rounds?: number
  learningRate?: number
  proximalMu?: number
  /** `iid`, `noniid` or `dirichlet:<alpha>`. @default 'iid' */
  partition?: string
  /** @default 'fedavg' */
  strategy?: StrategyName
  /** Extra strategy options (trimmed-mean beta, Krum f and m). */
  strategyOptions?: StrategyOptions
  /**
   * Size of FLTrust's root data set: digits drawn (seeded) from the training
   * digits 0..7999 and held by the coordinator. Used by `fltrust` only. @default 100
   */
  rootExamples?: number
  /** @default 0 */
  seed?: number
  /** Fraction of virtual clients that are byzantine. @default 0 */
  byzantineFraction?: number
  /** Behaviour of byzantine clients. @default 'signflip' */
  attack?: AttackName | string
  /** Directory for rounds.csv (written as rounds complete), accuracy.svg and loss.svg; nothing is written when undefined. */
  outDir?: string
  /** Accuracies whose first reaching round is reported. @default [0.85, 0.9, 0.95] */
  targets?: number[]
  /** Fewest updates per round. @default every sampled client with fraction 1, else 2 */
  minParticipants?: number
  /** Per-attempt deadline. @default 600000 in simulate mode (trainings queue on one runtime) */
  roundDeadlineMs?: number
  /** Concurrent trainings of the memory grid. @default 1 */
  concurrency?: number
  /** An existing runtime (else one is created). */
  runtime?: ModelRuntime
  /** Run over this grid instead of virtual clients. */
  grid?: Grid
  checkpoint?: CheckpointStore
  /** Client-level differential privacy (DP-FedAvg, central or local form). @default undefined (off) */
  dp?: DpOptions
  /** Update compression: `none`, `int8` or `topk:<ratio>`, or a parsed Compression (top-k with its DGC options). @default 'none' */
  compression?: string | Compression
  /** Aggregate every round with secure aggregation (weighted FedAvg only; not with DP). @default undefined (off) */
  secureAggregation?: SecureAggregationInit
  /** Called at the start with the resolved sampling (fraction, min participants) and why. */
  onPlan?(plan: SamplingPlan): void
  /** Called with round 0: the initial model, evaluated before round 1. */
  onInitial?(record: RoundRecord): void
  onRound?(record: RoundRecord): void
}

export interface MnistExperimentResult {
  records: RoundRecord[]
  /** Round 0: the initial model's held-out accuracy and loss. */
  initial?: RoundRecord
  /** The first round each target accuracy was reached, or null. */
  reached: Array<{ target: number, round: number | null }>
  finalAccuracy: number
  /** Wall time of the federated rounds (and the evaluation of the initial model), ms; no start-up. */
  wallMs: number
  /** Files written, when `outDir` was set. */
  files: string[]
}

const SIMULATE_DEADLINE_MS = 600_000

function virtualClients (train: Dataset, o: MnistExperimentOptions, seed: number): VirtualClient[] {
  const k = o.clients ?? 100
  const parts = partitionIndices(train.y, k, o.partition ?? 'iid', deriveSeed(seed, 1))
  const byzFraction = o.byzantineFraction ?? 0
  if (!(byzFraction >= 0 && byzFraction <= 1)) throw new InvalidConfigError(`byzantine fraction must be in [0, 1], got ${byzFraction}`)
  const attack = parseAttack(o.attack ?? 'signflip')
  const order = createRng(deriveSeed(seed, 2)).shuffle(Array.from({ length: k }, (_, i) => i))
  const byzantine = new Set(order.slice(0, Math.round(byzFraction * k)))
  return parts.map((idx, i) => ({
    id: `client-${String(i).padStart(3, '0')}`,
    data: subsetDataset(train, idx),
    attack: byzantine.has(i) ? attack : undefined
  }))
}


/** FLTrust's server update: train the round's global weights on `count` seeded training digits. */
function rootTrainer (runtime: ModelRuntime, baseId: string, mnist: Dataset, count: number, seed: number): RootUpdate {
  if (!Number.isInteger(count) || count < 1 || count > MNIST_TRAIN_END) throw new InvalidConfigError(`root examples must be an integer in [1, ${MNIST_TRAIN_END}], got ${count}`)
  const picked = createRng(deriveSeed(seed, 3)).shuffle(Array.from({ length: MNIST_TRAIN_END }, (_, i) => i)).slice(0, count).sort((a, b) => a - b)
  const root = subsetDataset(mnist, picked)
  return async (ctx, train, clientExamples) => {
    const epochs = rootEpochs(train.epochs, clientExamples, count)
    return (await runtime.train(baseId, ctx.global, root, { ...train, epochs, seed: deriveSeed(seed, 3, ctx.round, ctx.attempt) })).weights
  }
}

/** Run the MNIST experiment; see the module TSDoc. */
export async function runMnistExperiment (o: MnistExperimentOptions = {}): Promise<MnistExperimentResult> {
  const seed = o.seed ?? DEFAULT_SEED
  const targets = o.targets ?? DEFAULT_ACCURACY_TARGETS
  const runtime = o.runtime ?? await createModelRuntime()
  const mnist = loadMnist()
  const test = sliceDataset(mnist, MNIST_TRAIN_END, mnist.count)
  const simulate = o.grid === undefined
  if (!simulate && o.mode === 'simulate') throw new InvalidConfigError('simulate mode runs virtual clients: do not pass a grid')
  if (simulate && o.mode === 'mesh') throw new InvalidConfigError('mesh mode needs a grid')
  const clients = simulate ? virtualClients(sliceDataset(mnist, 0, MNIST_TRAIN_END), o, seed) : []
  const dp = parseDpOptions(o.dp)
  const compression = typeof o.compression === 'object' ? o.compression : parseCompression(o.compression)
  const plainGrid = o.grid ?? createMemoryGrid({ runtime, clients, concurrency: o.concurrency, seed, log: o.log?.newScope('memory-grid') })
  const grid = dp?.mode === 'local' || compression.scheme !== 'none'
    ? withClientPipeline(plainGrid, { localDp: dp?.mode === 'local' ? dp : undefined, compression, seed })
    : plainGrid
  const base = await runtime.createMlp({ inputSize: 784, hidden: [200, 200], classes: 10, seed, name: 'mnist-mlp' })
  const strategyName = o.strategy ?? 'fedavg'
  const inner = createStrategy(strategyName, {
    ...(strategyName === 'fltrust' ? { rootUpdate: rootTrainer(runtime, base.id, mnist, o.rootExamples ?? DEFAULT_ROOT_EXAMPLES, seed) } : {}),
    ...o.strategyOptions,
    epochs: o.epochs ?? DEFAULT_EPOCHS,
    batchSize: o.batchSize ?? DEFAULT_BATCH_SIZE,
    learningRate: o.learningRate ?? DEFAULT_LEARNING_RATE,
    proximalMu: o.proximalMu
  })
  const log = o.log ?? logger('edge-mesh:experiment')
  if (o.secureAggregation !== undefined && (dp !== undefined || strategyName !== 'fedavg')) throw new InvalidConfigError('secure aggregation runs with plain fedavg and without DP so far')
  if (dp !== undefined && strategyName !== 'fedavg' && strategyName !== 'fedsgd') throw new InvalidConfigError(`DP-FedAvg averages the clipped updates itself: use strategy fedavg or fedsgd, not ${strategyName}`)
  const strategy = withUplinkAggregation(o.secureAggregation !== undefined ? withSecureAggregation(inner, o.secureAggregation) : dp === undefined ? inner : withDp(inner, dp), compression)
  log('MNIST %s: %d clients, strategy %s, model %s', simulate ? 'simulation' : 'mesh run', grid.clients().length, strategy.name, base.id)
  const title = `MNIST ${strategy.name}${simulate ? ' (simulated clients)' : ''}`
  let outputs: ExperimentOutputs | undefined
  let initial: RoundRecord | undefined
  const started = performance.now()
  const result = await runFederated({
    grid,
    strategy,
    runtime,
    baseModelId: base.id,
    initialWeights: runtime.getWeights(base.id),
    rounds: o.rounds ?? 20,
    fraction: o.fraction,
    minParticipants: o.minParticipants,
    roundDeadlineMs: o.roundDeadlineMs ?? (simulate ? SIMULATE_DEADLINE_MS : undefined),
    evaluate: async (weights, options) => runtime.evaluate(base.id, weights, test, options),
    checkpoint: o.checkpoint,
    log,
    seed,
    signal: o.signal,
    onPlan: (plan) => {
      const subtitle = settingsLine({
        clients: plan.clients, fraction: plan.fraction, epochs: o.epochs ?? DEFAULT_EPOCHS, batchSize: o.batchSize ?? DEFAULT_BATCH_SIZE,
        learningRate: o.learningRate ?? DEFAULT_LEARNING_RATE, partition: o.partition ?? 'iid', seed
      })
      if (o.outDir !== undefined) outputs = new ExperimentOutputs({ dir: o.outDir, series: [strategy.name], title, subtitle, targets, dp: dp !== undefined })
      o.onPlan?.(plan)
    },
    onInitial: (evaluation) => {
      initial = initialRecord(evaluation, base.id)
      outputs?.add(strategy.name, initial)
      o.onInitial?.(initial)
    },
    onRound: (record) => {
      outputs?.add(strategy.name, record)
      o.onRound?.(record)
    }
  })
  const wallMs = performance.now() - started
  const files = outputs?.files() ?? []
  if (result.globalModelId !== base.id) runtime.unload(result.globalModelId)
  runtime.unload(base.id)
  return {
    records: result.records,
    initial,
    reached: roundsToTargets(result.records, targets),
    finalAccuracy: result.records.at(-1)?.accuracy ?? Number.NaN,
    wallMs,
    files
  }
}
