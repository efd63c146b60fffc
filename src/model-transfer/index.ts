/**
 * @packageDocumentation
 *
 * Model distribution by content id over `/edge-mesh/model/1.0.0`, as one
 * service of the node: it serves the models this node holds, fetches a
 * model from peers (verifying that the bytes hash to the id asked for), keeps
 * fetched models in an optional on-disk LRU cache, and makes a model
 * available on demand (`ensure`: single-flight per model, bounded in time and
 * in how many models are fetched at once).
 *
 * Offload (to serve or run a model it lacks) and federated learning (a run's
 * base model) declare it as their `modelTransfer` component, so a node holds
 * one handler, one cache and one set of in-flight fetches.
 *
 * @example
 * ```ts
 * import { createLibp2p } from 'libp2p'
 * import { loadGossip, localLoad } from 'edge-mesh/gossip'
 * import { models } from 'edge-mesh/model'
 * import { modelTransfer } from 'edge-mesh/model-transfer'
 *
 * const node = await createLibp2p({
 *   // transports, encrypters, muxers, identify, pubsub ...
 *   services: {
 *     models: models(),
 *     localLoad: localLoad(),
 *     loadView: loadGossip(),
 *     modelTransfer: modelTransfer({ cacheDir: '.edge-mesh/models' })
 *   }
 * })
 * await node.services.modelTransfer.ensure(modelId) // fetched from a peer that announces it
 * ```
 */
import { ModelTransferService } from './transfer.js'
import type { EnsureOptions } from './ensure.js'
import type { LoadView } from '../gossip/types.js'
import type { ModelInfo, ModelRuntime } from '../model/types.js'
import type { AbortOptions, ComponentLogger, PeerId } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'

export { MODEL_PROTOCOL } from './constants.js'
export { ModelTransferService }
export type { EnsureOptions }

/** Model distribution as offload and federated use it. */
export interface ModelTransfer {
  /**
   * Resolve once `modelId` is loaded here: at once when it is, otherwise
   * fetched from `options.from` and the peers that announce it. Rejects with
   * ModelNotFoundError (no peer has it), PeerBusyError (too many models being
   * fetched), AllPeersFailedError or AbortError.
   */
  ensure(modelId: string, options?: EnsureOptions): Promise<void>
  /** Fetch `modelId` from `peers` in turn and load it; AllPeersFailedError when every one fails. */
  fetch(modelId: string, peers: string[], options?: AbortOptions): Promise<ModelInfo>
  /**
   * A content id passes through; a name resolves to the content id of the one
   * model in the mesh (held here or announced by a peer) that carries it.
   * Rejects with ModelNotFoundError (no such name) or AmbiguousModelNameError
   * (several: the error lists their ids).
   */
  resolve(nameOrId: string, options?: AbortOptions): Promise<string>
}

export interface ModelTransferInit {
  /** Directory of the on-disk cache; fetched models live in memory only when unset. @default undefined */
  cacheDir?: string
  /** Byte bound of the cache. @default 1 GiB */
  maxCacheBytes?: number
  /** Largest model served or fetched (model.json + weights), bytes. @default 256 MiB */
  maxModelBytes?: number
  /** Payload bytes of one data frame sent. @default 256 KiB */
  chunkBytes?: number
  /** Longest one transfer may take (serving, fetching, `ensure`), ms. @default 120000 */
  modelTransferTimeoutMs?: number
  /** @default 4 */
  maxModelInboundStreams?: number
  /** @default 4 */
  maxModelOutboundStreams?: number
  /** Different models fetched at once by `ensure`; one more is refused with PeerBusyError. @default 2 */
  maxConcurrentFetches?: number
}

/** The collaborators of model transfer, as interfaces. */
export interface ModelTransferComponents {
  peerId: PeerId
  registrar: Pick<Registrar, 'handle' | 'unhandle'>
  connectionManager: Pick<ConnectionManager, 'openStream'>
  logger: ComponentLogger
  models: Pick<ModelRuntime, 'has' | 'get' | 'list' | 'exportArtifacts' | 'loadFromArtifacts' | 'admits'>
  /** Who announces which model (load gossip): the sources of `ensure`. */
  loadView: Pick<LoadView, 'peers'> & Partial<Pick<LoadView, 'addEventListener' | 'removeEventListener'>>
}

/** Create the model transfer service. */
export function modelTransfer (init: ModelTransferInit = {}): (components: ModelTransferComponents) => ModelTransferService {
  return (components) => new ModelTransferService(components, init)
}
