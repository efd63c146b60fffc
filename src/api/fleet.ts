/**
 * The whole fleet's load and offload traffic as one node sees it: one row per
 * node (this node from its live counters, every peer from its latest load
 * report) and the fleet's totals, as exo's and Ray's dashboards show a
 * cluster. Pure: unit-tested without a network.
 */
import type { NodeStatus } from './status.js'
import type { LoadReport, OffloadTraffic } from '../gossip/types.js'

/** One node of the fleet. Load and traffic are null when no report of it has arrived (or its report predates version 3, for traffic). */
export interface FleetNode {
  peerId: string
  name: string
  role: string
  /** The node this view comes from. */
  self: boolean
  /** Connected to this node (always false for `self`). */
  connected: boolean
  load: {
    cpu: number
    memFree: number
    inFlight: number
    queued: number
    capacity: number
    models: string[]
    training: boolean
  } | null
  traffic: OffloadTraffic | null
  /** Peers it is connected to. */
  connections: number | null
  /** Age of the report the row comes from, ms (0 for this node). */
  reportAgeMs: number | null
}

export interface FleetTotals extends OffloadTraffic {
  /** Nodes in the fleet, this one included. */
  nodes: number
  /** Nodes whose load is known. */
  reporting: number
  inFlight: number
  queued: number
  capacity: number
}

export interface Fleet {
  nodes: FleetNode[]
  totals: FleetTotals
}

const ZERO_TRAFFIC: OffloadTraffic = { servedLocally: 0, servedRemotely: 0, servedForPeers: 0 }

/** The load columns of a report. */
function loadOf (report: LoadReport | null): FleetNode['load'] {
  if (report == null) return null
  const { cpu, memFree, inFlight, queued, capacity, models, training } = report
  return { cpu, memFree, inFlight, queued, capacity, models, training }
}

function ownRow (status: NodeStatus, live: OffloadTraffic | null): FleetNode {
  const load = status.load
  const traffic = live == null ? null : { servedLocally: live.servedLocally, servedRemotely: live.servedRemotely, servedForPeers: live.servedForPeers }
  return {
    peerId: status.peerId,
    name: status.name,
    role: status.role,
    self: true,
    connected: false,
    load: loadOf(load),
    traffic: traffic ?? load?.traffic ?? null,
    connections: status.peers.filter(p => p.connected).length,
    reportAgeMs: 0
  }
}

function peerRow (peer: NodeStatus['peers'][number]): FleetNode {
  const load = peer.load
  return {
    peerId: peer.peerId,
    name: peer.name ?? '',
    role: peer.role ?? 'unknown',
    self: false,
    connected: peer.connected,
    load: loadOf(load),
    traffic: load?.traffic ?? null,
    connections: load?.connections ?? null,
    reportAgeMs: peer.loadAgeMs
  }
}

/** Sum of the rows' load and traffic (unknown values count as 0). */
export function fleetTotals (nodes: FleetNode[]): FleetTotals {
  const totals: FleetTotals = { nodes: nodes.length, reporting: 0, inFlight: 0, queued: 0, capacity: 0, ...ZERO_TRAFFIC }
  for (const n of nodes) {
    if (n.load != null) {
      totals.reporting++
      totals.inFlight += n.load.inFlight
      totals.queued += n.load.queued
      totals.capacity += n.load.capacity
    }
    const t = n.traffic ?? ZERO_TRAFFIC
    totals.servedLocally += t.servedLocally
    totals.servedRemotely += t.servedRemotely
    totals.servedForPeers += t.servedForPeers
  }
  return totals
}

/**
 * The fleet seen from `status`: this node first (its traffic from the live
 * offload counters `traffic` when given), then every known peer by name.
 */
export function buildFleet (status: NodeStatus, traffic: OffloadTraffic | null): Fleet {
  const peers = status.peers.map(peerRow)
    .sort((a, b) => a.name.localeCompare(b.name) || a.peerId.localeCompare(b.peerId))
  const nodes = [ownRow(status, traffic), ...peers]
  return { nodes, totals: fleetTotals(nodes) }
}
