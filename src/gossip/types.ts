/**
 * Types of the load gossip capability, shared with the services that read the
 * mesh's load (offload scheduling, federated participant choice, API).
 */
import type { Message } from '@libp2p/gossipsub'
import type { PeerId, TypedEventTarget } from '@libp2p/interface'

/** The role a node plays in the mesh. */
export type NodeRole = 'edge' | 'seed'

/** What a node says about itself on `/edge-mesh/load/1` (see docs/protocols.md). */
export interface LoadReport {
  /** Increases by one with every report a node sends; a newer report replaces an older one. */
  seq: number
  /** Sender's wall clock, ms since the epoch. */
  timestamp: number
  /** CPU utilisation over the last interval, 0..1. */
  cpu: number
  /** Free system memory in bytes. */
  memFree: number
  /** Requests being executed now. */
  inFlight: number
  /** Requests waiting in the queue. */
  queued: number
  /** Maximum concurrent jobs the node accepts. */
  capacity: number
  /**
   * The sender's heartbeat interval when it sent this report, ms: its next
   * report comes within this time even if nothing changes, so receivers keep
   * the entry for `expiryIntervals` times it. Absent in version 1 reports (and
   * when 0): receivers assume their own base interval.
   */
  intervalMs?: number
  /** Active TF.js backend (`tensorflow`, `wasm`, `cpu`). */
  backend: string
  /** Content ids of the models this node can serve. */
  models: string[]
  /** True while the node trains a federated round. */
  training: boolean
  /** True when the node holds local training data and takes part in federated runs. */
  canTrain: boolean
  role: NodeRole
  /** Human label (`--name`). */
  name: string
  /** Dialable multiaddrs of the node, as strings, without the /p2p suffix. */
  addrs: string[]
  /**
   * The sender's offload counters since it started (version 3; absent in
   * older reports): what lets any node show the whole fleet's traffic.
   */
  traffic?: OffloadTraffic
  /** How many peers the sender is connected to now (version 3); may be more than `neighbours` lists. */
  connections?: number
  /**
   * Peer ids of up to 16 of the sender's connected peers, in id order
   * (version 3): with every node's report, any node can draw the whole mesh.
   */
  neighbours?: string[]
}

/** Inference requests a node has seen answered, by where they ran (cumulative, saturating at 2^32-1). */
export interface OffloadTraffic {
  /** Its own requests it served itself. */
  servedLocally: number
  /** Its own requests peers served. */
  servedRemotely: number
  /** Peers' requests it served. */
  servedForPeers: number
}

/** The latest report from one peer, as held by the load table. */
export interface PeerLoad {
  peerId: string
  report: LoadReport
  /** Local clock time at which the report arrived. */
  receivedAt: number
}

/** The work a node's own services report; the gossip service publishes it. */
export interface LocalWork {
  inFlight: number
  queued: number
  capacity: number
  training: boolean
  canTrain: boolean
  models: string[]
}

export interface LocalLoadEvents {
  /** The local work changed; `detail` is the new snapshot. */
  'load:change': CustomEvent<LocalWork>
}

/** Where the node's services record their current work (written by offload and federated). */
export interface LocalLoad extends TypedEventTarget<LocalLoadEvents> {
  update(change: Partial<LocalWork>): void
  snapshot(): LocalWork
}

export interface LoadGossipEvents {
  /** A new report from a peer was accepted. */
  'load:report': CustomEvent<PeerLoad>
  /** A peer's entry expired or the peer disconnected. */
  'load:expire': CustomEvent<string>
}

/** The mesh's load as seen from this node. */
export interface LoadView extends TypedEventTarget<LoadGossipEvents> {
  /** The latest live report of every known peer (expired entries are not returned). */
  peers(): PeerLoad[]
  /** The latest live report of one peer. */
  get(peerId: string): PeerLoad | undefined
  /** The report this node last published about itself. */
  self(): LoadReport | undefined
  /** Counters for metrics. */
  stats(): { sent: number, received: number, rejected: number }
}

/** The slice of gossipsub a topic's publisher and subscriber uses (load gossip, run gossip): one topic, validated. */
export interface TopicPubSub extends TypedEventTarget<{ message: CustomEvent<Message> }> {
  topicValidators: Map<string, (peer: PeerId, message: Message) => any>
  subscribe(topic: string): void
  unsubscribe(topic: string): void
  publish(topic: string, data: Uint8Array): Promise<unknown>
}
