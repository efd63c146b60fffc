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
} from './aggregate.js'
export type { LayerData } from './aggregate.js'
export { validateUpdate } from './validate.js'
export type { ClientInfo, ClientLoad, ClientMetrics, ClientUpdate, FederatedTrainConfig, Grid, TrainRequest } from './grid.js'
export { sampleClients, configureSampled, combineLayers, resolveTrainOptions } from './strategy.js'
export type { ClientFailure, Instruction, LocalTrainOptions, RoundContext, Strategy } from './strategy.js'
export { fedAvg } from './fedavg.js'
export type { FedAvgOptions } from './fedavg.js'
export { fedSgd } from './fedsgd.js'
export type { FedSgdOptions } from './fedsgd.js'
export { fedMedian } from './fedmedian.js'
export type { FedMedianOptions } from './fedmedian.js'
export { trimmedMean } from './trimmed-mean.js'
export type { TrimmedMeanOptions } from './trimmed-mean.js'
export { krum } from './krum.js'
export type { KrumOptions } from './krum.js'
export { flTrust, flTrustWeights } from './fltrust.js'
export type { FlTrustOptions, FlTrustWeights, RootUpdate, TrustWeighting } from './fltrust.js'
export { createStrategy, STRATEGY_NAMES } from './create-strategy.js'
export type { StrategyName, StrategyOptions } from './create-strategy.js'
export { createMemoryGrid, InjectedFailureError } from './memory-grid.js'
export type { InjectedFault, MemoryGridInit, VirtualClient } from './memory-grid.js'
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
export { partitionIndices, labelCounts } from './partition.js'
export type { PartitionScheme } from './partition.js'
export { ATTACK_NAMES, attackUpdate, flipLabels, parseAttack } from './attacks.js'
export type { AttackName, AttackOptions } from './attacks.js'
export {
  encodeWeightRecord, encodeWeightRecordToBytes, encodedWeightRecordSize,
  decodeWeightRecord, decodeWeightRecordStream, WeightRecordDecoder,
  WEIGHTS_MAGIC, WEIGHTS_VERSION, DTYPE_CODES
} from './codec.js'
export type { DecodeLimits, EncodeOptions } from './codec.js'
export { roundsToCsv, ROUNDS_CSV_COLUMNS } from './csv.js'
export { lineChartSvg, niceTicks } from './plot.js'
export type { LineChartOptions, Series } from './plot.js'
export { runMnistExperiment, roundsToTargets, MNIST_TRAIN_END } from './experiment.js'
export type { MnistExperimentOptions, MnistExperimentResult } from './experiment.js'
export { federated, FederatedService } from './service.js'
export type { Federated, FederatedComponents, FederatedInit, RunPubSub, StartedRun } from './service.js'
export type { FederatedEvents, FederatedView, RoundAggregated, RoundSummary, RunState, RunSummary } from './service-types.js'
export { parseRunSpec } from './runs.js'
export type { ByzantineSpec, RunSpec } from './runs.js'
export { parseDataSpec, parseDataSpecs, loadData, loadDataSpecs, shardSpecs } from './data-spec.js'
export type { DataSpec } from './data-spec.js'
export { createMeshGrid, MeshGrid, parseClientId } from './mesh-grid.js'
export type { LocalClients, MeshGridInit } from './mesh-grid.js'
export { FEDAVG_PROTOCOL, FEDRUNS_TOPIC } from './protocol/constants.js'
export * from './privacy/index.js'
export type { PrivacyLedger } from './strategy.js'
export type { RoundPrivacy } from './run-types.js'
