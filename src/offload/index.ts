/**
 * @packageDocumentation
 *
 * Inference offload: run a TensorFlow.js model on whichever node of the mesh
 * answers soonest (this one or a peer), and never lose a request.
 *
 * - **Serving.** Every node runs an execution engine (`capacity` slots, a
 *   bounded queue, micro-batching) behind `/edge-mesh/infer/1.1.0` (one
 *   long-lived stream per peer with pipelined, id-tagged requests, coalesced
 *   by the caller, replies carrying the server's load) and the one-stream-per-
 *   request `/edge-mesh/infer/1.0.0` for older peers, and serves its models by
 *   content id on `/edge-mesh/model/1.0.0` (through the node's `modelTransfer`
 *   service, `src/model-transfer`).
 * - **Scheduling.** For each attempt the client ranks this node and the peers
 *   by peak-EWMA latency times load over capacity (load from gossip plus its own
 *   outstanding requests), samples two and keeps the cheaper (power of two
 *   choices), keeps an idle local node, and skips peers in backoff.
 * - **No request lost.** Failed or busy candidates are retried elsewhere within
 *   the deadline, this node is the last resort, slow attempts are hedged (at
 *   most 5 % of requests), and every request ends by its deadline with a result
 *   or a named error: DeadlineExceededError, AbortError, ModelNotFoundError,
 *   InvalidTensorError or AllPeersFailedError (an AggregateError of every attempt's error).
 * - **Spot checks.** A share of the answers peers return (`spotCheckRate`, 1 %)
 *   is re-run here or on a second peer and compared; a peer whose answer differs
 *   is banned, and the caller gets the correct outputs. `offloadTo: 'trusted'`
 *   sends work only to `trustedPeers`.
 * - **Where models are fetched.** Peers that announce the model are preferred.
 *   A peer that does not hold it is chosen only when this node holds it and the
 *   holders are saturated: that peer fetches the model from the peers announcing
 *   it (this node among them) before serving, within the request's deadline.
 *   This node, when it lacks the model, fetches it from announcing peers before
 *   running it locally. Fetches are single-flight per model and bounded in time.
 *   When no load report announces the model yet (it was just made), connected
 *   peers are asked for it by content id before the request fails.
 *   Fetched models count against the model memory budget and are not announced.
 *
 * @example
 * ```ts
 * import { createLibp2p } from 'libp2p'
 * import { localLoad, loadGossip } from 'edge-mesh/gossip'
 * import { models } from 'edge-mesh/model'
 * import { modelTransfer } from 'edge-mesh/model-transfer'
 * import { offload } from 'edge-mesh/offload'
 *
 * const node = await createLibp2p({
 *   // transports, encrypters, muxers, identify, pubsub ...
 *   services: {
 *     models: models({ modelDirs: ['./models/mnist'] }),
 *     localLoad: localLoad(),
 *     loadView: loadGossip({ name: 'laptop-1' }),
 *     modelTransfer: modelTransfer(),
 *     offload: offload({ capacity: 4, defaultDeadlineMs: 2000 })
 *   }
 * })
 * const modelId = node.services.models.list()[0].id
 * const input = { shape: [1, 784], dtype: 'float32', data: new Float32Array(784) }
 * const { outputs, servedBy, latencyMs } = await node.services.offload.infer(modelId, [input], { deadlineMs: 1000 })
 * console.log(servedBy, latencyMs.totalMs, outputs[0].shape) // 12D3KooW... 4.2 [1, 10]
 * ```
 */
import { OffloadService } from './offload.js'
import type { LoadView, LocalLoad } from '../gossip/types.js'
import type { SchedulingPolicy } from './policy.js'
import type { EngineInit } from './server.js'
import type { ModelRuntime } from '../model/types.js'
import type { ModelTransfer } from '../model-transfer/index.js'
import type { PeerBans } from '../trust/index.js'
import type { ComponentLogger, PeerId } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'

export * from './types.js'
export { INFER_PIPE_PROTOCOL, INFER_PROTOCOL } from './constants.js'
export { chooseCandidate, candidateCost } from './scheduler.js'
export { chooseByPolicy, isSchedulingPolicy } from './policy.js'
export type { PolicyState, SchedulingPolicy } from './policy.js'
export type { Candidate, Choice, SchedulerStats, SchedulerConfig } from './scheduler.js'
export type { OffloadService }

/** The engine's settings (capacity, queue, batching, slowdown) plus the protocol's and the client's. */
export interface OffloadInit extends EngineInit {
  /** Largest infer frame sent or accepted, bytes. @default 8 MiB */
  maxFrameBytes?: number
  /** Longest a served infer stream stays open, ms. @default 30000 */
  streamTimeoutMs?: number
  /** Concurrent inbound infer streams per connection. @default 32 */
  maxInboundStreams?: number
  /** Time budget of a request without its own `deadlineMs`, retries included, ms. @default 5000 */
  defaultDeadlineMs?: number
  /** Most attempts per request, hedges included. @default 6 */
  maxAttempts?: number
  /** Hedge slow requests on a second candidate (at most 5 % of requests). @default true */
  hedging?: boolean
  /**
   * Who chooses where each attempt runs: `p2c` is the cost-based scheduler;
   * `random` and `round-robin` are load-blind baselines for benchmarks.
   * @default 'p2c'
   */
  policy?: SchedulingPolicy
  /** Share of remote results re-run and compared (spot checks), 0..1; a peer caught lying is banned. @default 0.01 */
  spotCheckRate?: number
  /** Max absolute difference of float outputs that still counts as the same result. @default 1e-4 */
  spotCheckTolerance?: number
  /** Offload to `any` peer, or only to `trustedPeers`. @default 'any' */
  offloadTo?: 'any' | 'trusted'
  /** Peer ids trusted with `offloadTo: 'trusted'`. @default [] */
  trustedPeers?: string[]
  /** Random source of spot-check sampling (seed it in tests). @default Math.random */
  random?(): number
}

/** The collaborators the offload service uses, as interfaces. */
export interface OffloadComponents {
  peerId: PeerId
  registrar: Pick<Registrar, 'handle' | 'unhandle'>
  connectionManager: Pick<ConnectionManager, 'openStream' | 'closeConnections'> & Partial<Pick<ConnectionManager, 'getConnections'>>
  logger: ComponentLogger
  models: ModelRuntime
  loadView: LoadView
  localLoad: LocalLoad
  /** Fetches a model this node lacks before serving or running it. */
  modelTransfer: Pick<ModelTransfer, 'ensure'>
  /**
   * Optional: the connection gater's ban list. With it, a peer that keeps
   * sending malformed infer frames is banned; without it (a node with no
   * admission policy) the service only hangs up on that peer.
   */
  trust?: PeerBans
}

/** Create the offload service. */
export function offload (init: OffloadInit = {}): (components: OffloadComponents) => OffloadService {
  return (components) => new OffloadService(components, init)
}
