/**
 * The names under which edge-mesh services announce what they provide
 * (`serviceCapabilities`) and declare what they need (`serviceDependencies`),
 * as js-libp2p's own services do (doc/SERVICES.md). libp2p checks them when
 * the node is created: a service whose dependency no other service provides
 * fails `createLibp2p` with UnmetServiceDependenciesError naming both, rather
 * than failing later on first use.
 */
export const CAPABILITY = {
  /** The model runtime (`src/model`). */
  models: '@edge-mesh/models',
  /** This node's work register (`localLoad` in `src/gossip`). */
  localLoad: '@edge-mesh/local-load',
  /** Peers' load reports (`loadGossip` in `src/gossip`). */
  loadView: '@edge-mesh/load-view',
  /** Model distribution by content id (`src/model-transfer`). */
  modelTransfer: '@edge-mesh/model-transfer',
  /** Inference offload (`src/offload`). */
  offload: '@edge-mesh/offload',
  /** Federated learning (`src/federated`). */
  federated: '@edge-mesh/federated',
  /** Publish/subscribe, provided by gossipsub. */
  pubsub: '@libp2p/pubsub'
} as const
