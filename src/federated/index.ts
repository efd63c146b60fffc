/**
 * @packageDocumentation
 *
 * Federated learning for edge-mesh, in the shape of Flower: a `Strategy`
 * (who trains with which settings, how results are combined) runs over a
 * `Grid` (how clients are reached), driven by `runFederated`, which never
 * touches the network itself. The same strategy runs over the in-memory grid
 * (simulation of many virtual clients, tests) and over mesh peers.
 *
 * The folder, for a newcomer:
 * - core (this folder): `grid.ts` and `strategy.ts` (the two interfaces),
 *   `round.ts` (a round as a pure reducer), `run.ts` (the loop),
 *   `checkpoint.ts`, `partition.ts`, `rng.ts`;
 * - `strategies/`: FedAvg, FedSGD, FedMedian, trimmed mean, Krum / Multi-Krum,
 *   bucketing, FLTrust, the aggregation maths (`aggregate.ts`) and
 *   `createStrategy`; FedProx is any strategy with `proximalMu > 0`;
 * - `weights/`: the neutral `WeightRecord` codec (docs/protocols.md, "Weight
 *   records") and the update validation every round applies;
 * - `mesh/`: the libp2p service (participant, coordinator, mesh grid, run
 *   gossip, run files) and `protocol/` (`/edge-mesh/fedavg/1.0.0`);
 * - `simulation/`: the in-memory grid of virtual clients and the simulated
 *   attacks it can apply.
 *
 * The MNIST experiment harness (CSV, SVG plot) lives in `src/experiments`.
 *
 * @example Drive any grid
 * ```ts
 * import { createStrategy, runFederated } from 'edge-mesh/federated'
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
export { runFederated, roundSampleSize } from './run.js'
export { planSampling } from './sampling.js'
export type { SamplingPlan } from './sampling.js'
export { datasetKey, clientTrainingSeed } from './data-key.js'
export type { EvaluateFn, FederatedRunOptions, FederatedRunResult, RoundRecord } from './run-types.js'
export { FileCheckpointStore, MemoryCheckpointStore } from './checkpoint.js'
export type { Checkpoint, CheckpointState, CheckpointStore } from './checkpoint.js'
export { partitionIndices, labelCounts } from './partition.js'
export type { PartitionScheme } from './partition.js'
export {
  encodeWeightRecord, encodeWeightRecordToBytes, encodedWeightRecordSize,
  decodeWeightRecord, decodeWeightRecordStream, WeightRecordDecoder,
  WEIGHTS_MAGIC, WEIGHTS_VERSION, DTYPE_CODES
} from './weights/codec.js'
export type { DecodeLimits, EncodeOptions } from './weights/codec.js'
export { federated, FederatedService } from './mesh/service.js'
export type { Federated, FederatedComponents, FederatedInit, RunPubSub, StartedRun } from './mesh/service.js'
export type { FederatedEvents, FederatedView, RoundAggregated, RoundSummary, RunState, RunSummary } from './mesh/service-types.js'
export { parseRunSpec } from './mesh/runs.js'
export type { RunSpec } from './mesh/runs.js'
export { isTrusted, trustOf, trustPolicy, parseTrustList, bootstrapPeerIds } from './mesh/trust.js'
export type { TrustPolicy, TrustReason } from './mesh/trust.js'
export { resolveBounds, checkAnnounce, checkRunSpec, checkPushedExamples } from './mesh/bounds.js'
export type { FederatedBounds, Violation } from './mesh/bounds.js'
export { newRunId, runIdBindsTo, runIdBinding } from './mesh/run-id.js'
export { FEDAVG_PROTOCOL, FEDRUNS_TOPIC } from './mesh/protocol/constants.js'
export * from './privacy/index.js'
export type { PrivacyLedger } from './strategy.js'
export type { RoundPrivacy } from './run-types.js'
