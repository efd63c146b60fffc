/**
 * @packageDocumentation
 *
 * Federated learning for edge-mesh, in the shape of Flower: a `Strategy`
 * (who trains with which settings, how results are combined) runs over a
 * `Grid` (how clients are reached), driven by `runFederated`, which never
 * touches the network itself. The same strategy runs over the in-memory grid
 * (simulation of many virtual clients, tests) and over mesh peers.
 *
 * - Strategies: FedAvg, FedSGD, FedMedian, trimmed mean, Krum / Multi-Krum;
 *   FedProx is any strategy with `proximalMu > 0`.
 * - Rounds: a pure state machine (`roundReducer`) with deadlines, retries and
 *   late-update rejection; every update is validated against the global model.
 * - Weights travel as a neutral `WeightRecord`, encoded by the streaming
 *   weight-record codec (docs/protocols.md, "Weight records").
 * - Experiments: McMahan et al.'s MNIST setup with iid / noniid / Dirichlet
 *   partitions and byzantine clients, writing `rounds.csv` and `accuracy.svg`.
 *
 * @example Simulate 100 clients on MNIST
 * ```ts
 * import { runMnistExperiment } from './federated/index.js'
 *
 * const { records, reached } = await runMnistExperiment({
 *   clients: 100, fraction: 0.1, epochs: 1, batchSize: 10, rounds: 20,
 *   partition: 'noniid', strategy: 'fedavg', seed: 1, outDir: 'out/mnist'
 * })
 * ```
 *
 * @example Drive any grid
 * ```ts
 * import { createStrategy, runFederated } from './federated/index.js'
 *
 * const result = await runFederated({
 *   grid, runtime, baseModelId: info.id, initialWeights: runtime.getWeights(info.id),
 *   strategy: createStrategy('trimmed-mean', { beta: 0.1 }),
 *   rounds: 10, fraction: 0.2, minParticipants: 3, roundDeadlineMs: 30_000,
 *   evaluate: async (w, opts) => runtime.evaluate(info.id, w, testSet, opts),
 *   checkpoint: new FileCheckpointStore('state/run-1'),
 *   onRound: (r) => { console.log(r.round, r.accuracy) }
 * })
 * ```
 */

export * from './constants.js'
export {
  weightedAverage, coordinateMedian, trimmedMean as trimmedMeanLayer, trimCount,
  pairwiseSquaredDistances, krumScores, multiKrumSelect, maxKrumByzantine
} from './strategies/aggregate.js'
export type { LayerData } from './strategies/aggregate.js'
export { validateUpdate } from './weights/validate.js'
export type { ClientInfo, ClientLoad, ClientMetrics, ClientUpdate, FederatedTrainConfig, Grid, TrainRequest } from './grid.js'
export { sampleClients, configureSampled, combineLayers, resolveTrainOptions } from './strategy.js'
export type { ClientFailure, Instruction, LocalTrainOptions, RoundContext, Strategy } from './strategy.js'
export { fedAvg } from './strategies/fedavg.js'
export type { FedAvgOptions } from './strategies/fedavg.js'
export { fedSgd } from './strategies/fedsgd.js'
export type { FedSgdOptions } from './strategies/fedsgd.js'
export { fedMedian } from './strategies/fedmedian.js'
export type { FedMedianOptions } from './strategies/fedmedian.js'
export { trimmedMean } from './strategies/trimmed-mean.js'
export type { TrimmedMeanOptions } from './strategies/trimmed-mean.js'
export { krum } from './strategies/krum.js'
export type { KrumOptions } from './strategies/krum.js'
export { flTrust, flTrustWeights } from './strategies/fltrust.js'
export type { FlTrustOptions, FlTrustWeights, RootUpdate, TrustWeighting } from './strategies/fltrust.js'
export { createStrategy, STRATEGY_NAMES } from './strategies/create-strategy.js'
export type { StrategyName, StrategyOptions } from './strategies/create-strategy.js'
export { createMemoryGrid, InjectedFailureError } from './simulation/memory-grid.js'
export type { InjectedFault, MemoryGridInit, VirtualClient } from './simulation/memory-grid.js'
export { initialRoundState, roundReducer } from './round.js'
export type { RoundEvent, RoundFailure, RoundPhase, RoundRules, RoundState } from './round.js'
export { collectAttempt } from './collect.js'
export type { AttemptInput, AttemptOutcome } from './collect.js'
export { runFederated, roundSampleSize } from './run.js'
export type { EvaluateFn, FederatedRunOptions, FederatedRunResult, RoundRecord } from './run-types.js'
export { FileCheckpointStore, MemoryCheckpointStore } from './checkpoint.js'
export type { Checkpoint, CheckpointState, CheckpointStore } from './checkpoint.js'
export { createRng, deriveSeed, dirichlet } from './rng.js'
export type { Rng } from './rng.js'
export { partitionIndices, labelCounts } from './simulation/partition.js'
export type { PartitionScheme } from './simulation/partition.js'
export { ATTACK_NAMES, attackUpdate, flipLabels, parseAttack } from './simulation/attacks.js'
export type { AttackName, AttackOptions } from './simulation/attacks.js'
export {
  encodeWeightRecord, encodeWeightRecordToBytes, encodedWeightRecordSize,
  decodeWeightRecord, decodeWeightRecordStream, WeightRecordDecoder,
  WEIGHTS_MAGIC, WEIGHTS_VERSION, DTYPE_CODES
} from './weights/codec.js'
export type { DecodeLimits, EncodeOptions } from './weights/codec.js'
export { roundsToCsv, ROUNDS_CSV_COLUMNS } from '../experiments/csv.js'
export { lineChartSvg, niceTicks } from '../experiments/plot.js'
export type { LineChartOptions, Series } from '../experiments/plot.js'
export { runMnistExperiment, roundsToTargets, MNIST_TRAIN_END } from '../experiments/mnist.js'
export type { MnistExperimentOptions, MnistExperimentResult } from '../experiments/mnist.js'
export { federated, FederatedService } from './mesh/service.js'
export type { Federated, FederatedComponents, FederatedInit, RunPubSub, StartedRun } from './mesh/service.js'
export type { FederatedView, RoundSummary, RunState, RunSummary } from './mesh/service-types.js'
export { parseRunSpec } from './mesh/runs.js'
export type { ByzantineSpec, RunSpec } from './mesh/runs.js'
export { parseDataSpec, parseDataSpecs, loadData, loadDataSpecs, shardSpecs } from './mesh/data-spec.js'
export type { DataSpec } from './mesh/data-spec.js'
export { createMeshGrid, MeshGrid, parseClientId } from './mesh/mesh-grid.js'
export type { LocalClients, MeshGridInit } from './mesh/mesh-grid.js'
export { FEDAVG_PROTOCOL, FEDRUNS_TOPIC } from './mesh/protocol/constants.js'
