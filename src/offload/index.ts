/**
 * @packageDocumentation
 *
 * Inference offload: run a TensorFlow.js model on whichever node of the mesh
 * answers soonest (this one or a peer), and never lose a request.
 *
 * - **Serving.** Every node runs an execution engine (`capacity` slots, a
 *   bounded queue, micro-batching) behind `/edge-mesh/infer/1.0.0`, and serves
 *   its models by content id on `/edge-mesh/model/1.0.0`.
 * - **Scheduling.** For each attempt the client ranks this node and the peers
 *   by peak-EWMA latency times load over capacity (load from gossip plus its own
 *   outstanding requests), samples two and keeps the cheaper (power of two
 *   choices), keeps an idle local node, and skips peers in backoff.
 * - **No request lost.** Failed or busy candidates are retried elsewhere within
 *   the deadline, this node is the last resort, slow attempts are hedged (at
 *   most 5 % of requests), and every request ends by its deadline with a result
 *   or a named error: DeadlineExceededError, AbortError, ModelNotFoundError,
 *   InvalidTensorError or AllPeersFailedError (an AggregateError of every attempt's error).
 * - **Where models are fetched.** Peers that announce the model are preferred.
 *   A peer that does not hold it is chosen only when this node holds it and the
 *   holders are saturated: that peer fetches the model from the peers announcing
 *   it (this node among them) before serving, within the request's deadline.
 *   This node, when it lacks the model, fetches it from announcing peers before
 *   running it locally. Fetches are single-flight per model and bounded in time.
 *
 * @example
 * ```ts
 * import { createLibp2p } from 'libp2p'
 * import { localLoad, loadGossip } from 'edge-mesh/gossip'
 * import { models } from 'edge-mesh/model'
 * import { offload } from 'edge-mesh/offload'
 *
 * const node = await createLibp2p({
 *   // transports, encrypters, muxers, identify, pubsub ...
 *   services: {
 *     models: models({ modelDirs: ['./models/mnist'] }),
 *     localLoad: localLoad(),
 *     loadView: loadGossip({ name: 'laptop-1' }),
 *     offload: offload({ capacity: 4, defaultDeadlineMs: 2000 })
 *   }
 * })
 * const modelId = node.services.models.list()[0].id
 * const input = { shape: [1, 784], dtype: 'float32', data: new Float32Array(784) }
 * const { outputs, servedBy, latencyMs } = await node.services.offload.infer(modelId, [input], { deadlineMs: 1000 })
 * console.log(servedBy, latencyMs.totalMs, outputs[0].shape) // 12D3KooW... 4.2 [1, 10]
 * ```
 */
import { createModelTransfer } from '../model-transfer/transfer.js'
import { OffloadService } from './offload.js'
import type { LoadView, LocalLoad } from '../gossip/types.js'
import type { SchedulingPolicy } from './policy.js'
import type { EngineInit } from './server.js'
import type { ModelRuntime } from '../model/types.js'
import type { AbortOptions, ComponentLogger, PeerId, Startable } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'

export * from './types.js'
export { INFER_PROTOCOL, MODEL_PROTOCOL } from './constants.js'
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
  /** Directory of the on-disk model cache; none when unset (fetched models live in memory only). @default undefined */
  cacheDir?: string
  /** Byte bound of the on-disk model cache. @default 1 GiB */
  maxCacheBytes?: number
  /** Longest one model transfer may take, ms. @default 120000 */
  modelTransferTimeoutMs?: number
}

/** The collaborators the offload service uses, as interfaces. */
export interface OffloadComponents {
  peerId: PeerId
  registrar: Pick<Registrar, 'handle' | 'unhandle'>
  connectionManager: Pick<ConnectionManager, 'openStream' | 'closeConnections'>
  logger: ComponentLogger
  models: ModelRuntime
  loadView: LoadView
  localLoad: LocalLoad
}

/** Model distribution as the service uses it: serve models (start/stop) and fetch one from peers. */
export interface ModelTransfer extends Startable {
  /** Fetch `modelId` from one of `peers` and load it into the runtime. */
  fetch(modelId: string, peers: string[], options: AbortOptions): Promise<unknown>
}

/** Model distribution over `/edge-mesh/model/1.0.0`, with the on-disk cache when `cacheDir` is set. */
function modelTransfer (components: OffloadComponents, init: OffloadInit): ModelTransfer {
  return createModelTransfer(components, {
    cacheDir: init.cacheDir,
    maxCacheBytes: init.maxCacheBytes,
    modelTransferTimeoutMs: init.modelTransferTimeoutMs
  })
}

/** Create the offload service. */
export function offload (init: OffloadInit = {}): (components: OffloadComponents) => OffloadService {
  return (components) => new OffloadService(components, init, modelTransfer)
}
