/**
 * @packageDocumentation
 *
 * edge-mesh: a peer-to-peer federated edge mesh on libp2p. Nodes find each
 * other, gossip their load, offload TensorFlow.js inference to idle peers and
 * train models by federated averaging.
 *
 * This entry point is the node and the types an application needs. Each
 * capability also has its own entry point, for building a libp2p node by hand
 * or using one part alone: `edge-mesh/node`, `edge-mesh/discovery`,
 * `edge-mesh/gossip`, `edge-mesh/offload`, `edge-mesh/model-transfer`, `edge-mesh/model`,
 * `edge-mesh/federated`, `edge-mesh/api`, `edge-mesh/trust`, `edge-mesh/errors`.
 *
 * @example
 * ```ts
 * import { createEdgeMeshNode } from 'edge-mesh'
 *
 * const node = await createEdgeMeshNode({ name: 'laptop', apiPort: 0, mdns: false })
 * const model = await node.services.models.createMlp({ inputSize: 4, hidden: [8], classes: 2, seed: 1 })
 * node.services.offload.addEventListener('inference:completed', (evt) => {
 *   console.log(evt.detail.servedBy, evt.detail.latencyMs.totalMs)
 * })
 * const { outputs } = await node.infer(model.id, [[0.1, 0.2, 0.3, 0.4]])
 * console.log(outputs[0].shape) // [1, 2]
 * await node.stop()
 * ```
 */
export { createEdgeMeshNode, resolveConfig, tensor, tensors, PRESETS } from './node/index.js'
export type {
  ComponentFactory, EdgeMeshConfig, EdgeMeshInit, EdgeMeshLibp2p, EdgeMeshNode, EdgeMeshServices, Libp2pInit,
  NestedNumbers, PresetName, PresetTimings, TensorInput
} from './node/index.js'
export * from './errors.js'
export type { DType, ModelInfo, MlpSpec, NamedTensor, TensorData, WeightRecord } from './model/types.js'
export type {
  AttemptRecord, InferOptions, InferResult, InferenceCompleted, InferenceFailed, LatencyBreakdown, OffloadEvents, Preference
} from './offload/types.js'
export type { LoadGossipEvents, LoadReport, NodeRole, PeerLoad } from './gossip/types.js'
export type { RunSpec } from './federated/mesh/runs.js'
export type { SecureRunOptions } from './federated/privacy/secagg/workflow.js'
export type { StartedRun } from './federated/mesh/service-api.js'
export type { FederatedEvents, RoundAggregated, RoundSummary, RunState, RunSummary } from './federated/mesh/service-types.js'
