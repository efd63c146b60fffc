/**
 * Privacy and compression of federated updates:
 * - differential privacy: DP-FedAvg in the central (`withDp`) and local
 *   (`privatizeUpdate`, `withClientPipeline({ localDp })`) forms, with an RDP
 *   accountant of the sampled Gaussian mechanism (`RdpAccountant`);
 * - update compression: stochastic int8 and top-k with error feedback, in a
 *   compact binary layout (`compressUpdate` / `decompressUpdate`);
 * - secure aggregation: a Bonawitz et al. / SecAgg+ engine (`SecAggClient`,
 *   `SecAggServer`, `runSecAggRound`) and a simulation strategy
 *   (`withSecureAggregation`).
 * What each protects against: docs/privacy.md. Wire formats: docs/protocols.md.
 *
 * @example
 * ```ts
 * import { fedAvg } from '../fedavg.js'
 * const strategy = withDp(fedAvg(), parseDpOptions({ mode: 'central', noiseMultiplier: 1.1, targetEpsilon: 4 })!)
 * // runFederated({ strategy, ... }): every RoundRecord carries `privacy.epsilon`; the run stops before passing 4
 * ```
 */
export { RdpAccountant, epsilonAfter, noiseMultiplierFor } from './accountant.js'
export type { DpStep, PrivacySpent, RdpAccountantInit } from './accountant.js'
export { computeRdp, epsilonFromRdp, epsilonAtOrder, sampledGaussianRdp } from './rdp.js'
export type { RdpConversion } from './rdp.js'
export { parseDpOptions } from './dp-options.js'
export type { DpOptions, ResolvedDpOptions } from './dp-options.js'
export { withDp, privatizeUpdate } from './dp-strategy.js'
export { parseCompression, compressionName, topKOptions, quantizeInt8, dequantizeInt8, topK, densify } from './compression.js'
export { TopKState, densityAt, stalenessDiscount, topKBytesBound } from './dgc.js'
export type { SparsifyOptions, TopKAverage, TopKOptions } from './dgc.js'
export { senderAverageFolder, withSenderAveraging, withUplinkAggregation } from './sender-average.js'
export { ClientUplink, roundCompression, compressedBytesBound } from './uplink.js'
export type { EncodedUpdate, LocalDp, RoundCompression, RoundUplink, UplinkRandom } from './uplink.js'
export type { Compression } from './compression.js'
export { encodeCompressed, decodeCompressed, COMPRESSED_MAGIC, COMPRESSED_VERSION } from './compression-codec.js'
export { withClientPipeline, compressUpdate, decompressUpdate } from './client-pipeline.js'
export type { ClientPipelineInit } from './client-pipeline.js'
export { withSecureAggregation } from './secure-strategy.js'
export type { SecureAggregationInit } from './secure-strategy.js'
export { SecAggClient } from './secagg/client.js'
export { SecAggServer } from './secagg/server.js'
export type { SecAggResult } from './secagg/server.js'
export { runSecAggRound, secAggConfig, seededClientRandom } from './secagg/round.js'
export * from './constants.js'
export type { SecAggInput, SecAggRoundOptions, SecAggRoundResult, SecAggConfigInit } from './secagg/round.js'
export type { SecAggConfig } from './secagg/messages.js'
export { meanErrorBound, fractionalBits } from './secagg/fixed-point.js'
