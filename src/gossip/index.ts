/**
 * @packageDocumentation
 *
 * Load gossip: every node publishes a compact binary load report on the
 * gossipsub topic `/edge-mesh/load/1` as a heartbeat and soon after its load
 * changes a lot, at a cadence that slows down as the mesh grows so that the
 * reports a node receives per second stay bounded (see `cadence.ts`); every
 * node validates the reports it receives and keeps the latest one per peer in
 * a load table whose entries expire.
 *
 * @example
 * ```ts
 * import { createLibp2p } from 'libp2p'
 * import { gossipsub } from '@libp2p/gossipsub'
 * import { localLoad, loadGossip } from 'edge-mesh/gossip'
 *
 * const node = await createLibp2p({
 *   // transports, encrypters, muxers, identify ...
 *   services: {
 *     pubsub: gossipsub({ allowPublishToZeroTopicPeers: true }),
 *     localLoad: localLoad({ capacity: 4 }),
 *     loadGossip: loadGossip({ intervalMs: 1000, name: 'laptop-1' })
 *   }
 * })
 * node.services.loadGossip.addEventListener('load:report', (evt) => {
 *   console.log(evt.detail.peerId, evt.detail.report.cpu)
 * })
 * ```
 */
import {
  DEFAULT_CHANGE_BUDGET, DEFAULT_EXPIRY_INTERVALS, DEFAULT_HEARTBEAT_BUDGET, DEFAULT_MAX_HEARTBEAT_INTERVAL_MS, DEFAULT_REPORT_INTERVAL_MS
} from './constants.js'
import { LoadGossip } from './load-gossip.js'
import { LocalLoadRegister } from './local-load.js'
import type { LocalLoad, LocalWork, NodeRole, OffloadTraffic, TopicPubSub } from './types.js'
import type { ModelRuntime } from '../model/types.js'
import type { ComponentLogger, Libp2pEvents, PeerId, TypedEventTarget } from '@libp2p/interface'
import type { AddressManager, ConnectionManager } from '@libp2p/interface-internal'

export * from './types.js'
export { LOAD_TOPIC } from './constants.js'
export { encodeLoadReport, decodeLoadReport } from './codec.js'
export * from './load-table.js'
export * from './cadence.js'

export interface LoadGossipInit {
  /** Base report interval: the heartbeat of a small mesh, ms. @default 1000 */
  intervalMs?: number
  /** A peer's entry expires after this many of its heartbeat intervals without a newer report. @default 3 */
  expiryIntervals?: number
  /** Heartbeats per second the whole mesh aims for; the heartbeat slows down beyond `budget x interval` nodes. @default 4 */
  heartbeatBudget?: number
  /** Change reports per second the whole mesh may send. @default 8 */
  changeBudget?: number
  /** Longest heartbeat interval, ms. @default 120000 */
  maxIntervalMs?: number
  /** This node's role. @default 'edge' */
  role?: NodeRole
  /** Human label carried in reports. @default '' */
  name?: string
}

/** The slice of gossipsub the load gossip uses. */
export type LoadPubSub = TopicPubSub

export interface LoadGossipComponents {
  peerId: PeerId
  logger: ComponentLogger
  addressManager: Pick<AddressManager, 'getAddresses'>
  events: TypedEventTarget<Libp2pEvents>
  pubsub: LoadPubSub
  localLoad: LocalLoad
  /** Backend and loaded models are read from here when present. */
  models?: Pick<ModelRuntime, 'backend' | 'list'>
  /** This node's connections: the neighbours its reports list (version 3). */
  connectionManager?: Pick<ConnectionManager, 'getConnections'>
  /** The offload service's counters, reported when present (version 3). */
  offload?: { stats(): OffloadTraffic }
}

/** Create the load gossip service. */
export function loadGossip (init: LoadGossipInit = {}): (components: LoadGossipComponents) => LoadGossip {
  return (components) => new LoadGossip(components, {
    intervalMs: init.intervalMs ?? DEFAULT_REPORT_INTERVAL_MS,
    expiryIntervals: init.expiryIntervals ?? DEFAULT_EXPIRY_INTERVALS,
    heartbeatBudget: init.heartbeatBudget ?? DEFAULT_HEARTBEAT_BUDGET,
    changeBudget: init.changeBudget ?? DEFAULT_CHANGE_BUDGET,
    maxIntervalMs: init.maxIntervalMs ?? DEFAULT_MAX_HEARTBEAT_INTERVAL_MS,
    role: init.role ?? 'edge',
    name: init.name ?? ''
  })
}

/** Create the register where this node's services record their work. */
export function localLoad (init: Partial<LocalWork> = {}): () => LocalLoad {
  return () => new LocalLoadRegister(init)
}

export type { LoadGossip }
