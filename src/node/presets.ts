/**
 * Named presets, like memberlist's DefaultLANConfig / DefaultLocalConfig:
 * every timing a preset sets is listed here and in the README.
 */
export type PresetName = 'lan' | 'local-test'

export interface PresetTimings {
  /** Load report interval, ms. */
  reportIntervalMs: number
  /** Entries expire after this many missed intervals. */
  expiryIntervals: number
  /** mDNS query interval, ms. */
  mdnsIntervalMs: number
  /** gossipsub heartbeat, ms. */
  heartbeatMs: number
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
    mdnsIntervalMs: 10_000,
    heartbeatMs: 1000,
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
    mdnsIntervalMs: 1000,
    heartbeatMs: 250,
    ipColocationPenalty: false,
    redialMs: 500,
    inboundConnectionThreshold: 1000,
    maxIncomingPendingConnections: 256,
    maxConnectionsPerHost: 10_000,
    reservedConnections: 0
  }
}
