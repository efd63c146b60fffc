/**
 * The dashboard's view of a node: one JSON document with this node's status,
 * its offload counters, its federated runs and the mesh topology it can see.
 * `GET /events` pushes one of these every second; the pure builders here are
 * unit-testable without a server.
 */
import { optionalComponent } from '../optional-component.js'
import { buildStatus } from './status.js'
import type { ControlApiComponents, NodeInfo } from './index.js'
import type { NodeStatus } from './status.js'
import type { FederatedView, RunSummary } from '../federated/mesh/service-types.js'
import type { Offload, OffloadStats } from '../offload/types.js'

/** Most recent federated runs carried in one snapshot (older runs stay available at `GET /federated/runs`). */
export const MAX_SNAPSHOT_RUNS = 20

export interface TopologyNode {
  id: string
  name: string
  role: string
}

/** Who is connected to whom, as far as this node knows. Links are unordered pairs of peer ids. */
export interface MeshTopology {
  nodes: TopologyNode[]
  links: Array<[string, string]>
}

export interface DashboardSnapshot {
  status: NodeStatus
  offload: OffloadStats | null
  federated: RunSummary[]
  topology: MeshTopology
}

/** The offload service, when the node runs one. */
export function readOffload (components: ControlApiComponents): Offload | undefined {
  return optionalComponent<Offload>(components, 'offload')
}

/** The federated service's read-only view, when the node runs one. */
export function readFederated (components: ControlApiComponents): FederatedView | undefined {
  return optionalComponent<ControlApiComponents['federated']>(components, 'federated')
}

/**
 * The topology seen from one node: itself, every peer it knows (connected or
 * heard of through load gossip), and a link to each peer it is connected to.
 * Load reports do not carry a peer's own connections, so peers known only by
 * gossip appear without links.
 */
export function buildTopology (status: NodeStatus): MeshTopology {
  const nodes: TopologyNode[] = [{ id: status.peerId, name: status.name, role: status.role }]
  const links: Array<[string, string]> = []
  for (const peer of status.peers) {
    nodes.push({ id: peer.peerId, name: peer.name ?? '', role: peer.role ?? 'unknown' })
    if (peer.connected) links.push([status.peerId, peer.peerId])
  }
  return { nodes, links }
}

/** The latest `max` runs, oldest first. */
export function recentRuns (runs: RunSummary[], max = MAX_SNAPSHOT_RUNS): RunSummary[] {
  return [...runs].sort((a, b) => a.startedAt - b.startedAt).slice(-max)
}

/** A capability that fails to report must not take the whole snapshot down. */
function safely<T> (read: () => T, fallback: T): T {
  try {
    return read()
  } catch {
    return fallback
  }
}

export function buildSnapshot (components: ControlApiComponents, info: NodeInfo, now: number): DashboardSnapshot {
  const status = buildStatus(components, info, now)
  const offload = readOffload(components)
  const federated = readFederated(components)
  return {
    status,
    offload: offload == null ? null : safely(() => offload.stats(), null),
    federated: federated == null ? [] : recentRuns(safely(() => federated.runs(), [])),
    topology: buildTopology(status)
  }
}
