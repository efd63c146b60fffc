/**
 * Named presets, like memberlist's DefaultLANConfig / DefaultLocalConfig:
 * every timing a preset sets is listed here and in the README.
 */
import { PUBSUB_MESH } from '../gossip/constants.js'
import type { PubsubMesh } from '../gossip/constants.js'

export type PresetName = 'lan' | 'local-test'

export interface PresetTimings {
  /** Base load report interval: the heartbeat of a small mesh, ms. */
  reportIntervalMs: number
  /** Entries expire after this many missed intervals (of the sender's heartbeat interval). */
  expiryIntervals: number
  /**
   * Load heartbeats per second the whole mesh aims for: a node's heartbeat
   * interval is `max(reportIntervalMs, meshSize / budget s)`, so the reports a
   * node receives per second do not grow with the mesh (see src/gossip/cadence.ts).
   */
  heartbeatBudget: number
  /** Change reports per second the whole mesh may send: a node reports a change at most every `max(100 ms, meshSize / budget s)`. */
  changeBudget: number
  /** Longest load heartbeat interval, ms. */
  maxHeartbeatMs: number
  /** mDNS query interval, ms. */
  mdnsIntervalMs: number
  /**
   * gossipsub heartbeat, ms: mesh upkeep, and IHAVE gossip to `Dlazy` peers
   * outside the mesh each time (so a node with more peers than its mesh sends
   * and receives `2 x Dlazy` gossip messages per heartbeat).
   */
  heartbeatMs: number
  /** gossipsub mesh degrees: a node's cost per report is its mesh degree (see `PUBSUB_MESH`). */
  pubsubMesh: PubsubMesh
  /**
   * Whether a node sends its own messages to every subscribed peer (gossipsub's
   * flood publishing) instead of its mesh (at least `D` peers). Off: one
   * report would cost a publisher one message per connection, and every
   * receiver a copy more. A mesh of up to `D + 1` nodes gets them in one hop either way.
   */
  floodPublish: boolean
  /**
   * Whether gossipsub's IP-colocation penalty applies. Many nodes on one
   * machine share an IP and would be graylisted by it, so `local-test`
   * turns it off; on a LAN every device has its own address and it stays on.
   */
  ipColocationPenalty: boolean
  /** Delay before redialling a known peer that dropped, ms. */
  redialMs: number
  /**
   * Inbound connections accepted per second from one host, and connections
   * being set up at once. libp2p's defaults (5 and 10) protect a device on a
   * LAN; a cluster on one machine connects everything from 127.0.0.1, so
   * `local-test` raises them.
   */
  inboundConnectionThreshold: number
  maxIncomingPendingConnections: number
  /**
   * Inbound connections from one host and slots kept for new hosts (the
   * gater's per-host limits, src/trust/host-limits.ts). On a LAN every device
   * has its own address; a cluster on one machine dials everything from
   * 127.0.0.1, so `local-test` lifts the cap and keeps no reserve. `lan`:
   * a device rarely holds more than two connections with one peer, so 16
   * leaves room for a few devices behind one NAT address; 8 of 128 slots
   * are kept for newcomers.
   */
  maxConnectionsPerHost: number
  reservedConnections: number
}

export const PRESETS: Record<PresetName, PresetTimings> = {
  lan: {
    reportIntervalMs: 1000,
    expiryIntervals: 3,
    // 4 heartbeats/s mesh-wide: 1 s up to 4 nodes, 25 s at 100, 75 s at 300.
    heartbeatBudget: 4,
    // 8 change reports/s mesh-wide: a 4-node mesh reports a change within 0.5 s (2 intervals are allowed).
    changeBudget: 8,
    maxHeartbeatMs: 120_000,
    mdnsIntervalMs: 10_000,
    heartbeatMs: 1000,
    pubsubMesh: PUBSUB_MESH,
    floodPublish: false,
    ipColocationPenalty: true,
    redialMs: 5000,
    inboundConnectionThreshold: 5,
    maxIncomingPendingConnections: 10,
    maxConnectionsPerHost: 16,
    reservedConnections: 8
  },
  'local-test': {
    reportIntervalMs: 250,
    expiryIntervals: 4,
    // 8 heartbeats/s mesh-wide: 250 ms up to 2 nodes, 500 ms at 4, 1.4 s at 11.
    heartbeatBudget: 8,
    // 40 change reports/s mesh-wide: 100 ms gap up to 4 nodes, 275 ms at 11.
    changeBudget: 40,
    maxHeartbeatMs: 30_000,
    mdnsIntervalMs: 1000,
    // gossipsub's default, as `lan`: at 250 ms (before issue #12) the IHAVE gossip to peers outside
    // the mesh was 24 messages/s per edge of an 11-node mesh, against none in a 4-node mesh.
    heartbeatMs: 1000,
    pubsubMesh: PUBSUB_MESH,
    floodPublish: false,
    ipColocationPenalty: false,
    redialMs: 500,
    inboundConnectionThreshold: 1000,
    maxIncomingPendingConnections: 256,
    maxConnectionsPerHost: 10_000,
    reservedConnections: 0
  }
}
