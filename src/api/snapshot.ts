/**
 * The dashboard's view of a node: one JSON document with this node's status,
 * its offload counters, its federated runs, the whole mesh's graph (from every
 * node's reported neighbours) and the whole fleet's load and traffic.
 * `GET /events` pushes one of these every second; the pure builders here are
 * unit-testable without a server.
 */
import { optionalComponent } from '../optional-component.js'
import { buildFleet } from './fleet.js'
import { buildTopology } from './mesh-graph.js'
import { buildStatus } from './status.js'
import type { Fleet } from './fleet.js'
import type { MeshTopology } from './mesh-graph.js'
import type { ControlApiComponents, NodeInfo } from './index.js'
import type { NodeStatus } from './status.js'
import type { FederatedView, RunSummary } from '../federated/mesh/service-types.js'
import type { Offload, OffloadStats } from '../offload/types.js'

/** Most recent federated runs carried in one snapshot (older runs stay available at `GET /federated/runs`). */
export const MAX_SNAPSHOT_RUNS = 20

export type { Fleet, FleetNode, FleetTotals } from './fleet.js'
export type { MeshTopology, TopologyNode } from './mesh-graph.js'
export { buildTopology }

export interface DashboardSnapshot {
  status: NodeStatus
  offload: OffloadStats | null
  federated: RunSummary[]
  /** Every node's links, from this node's connections and the neighbours in peers' reports. */
  topology: MeshTopology
  /** Every node's load and offload traffic, from peers' reports and this node's live counters. */
  fleet: Fleet
}

/** The offload service, when the node runs one. */
export function readOffload (components: ControlApiComponents): Offload | undefined {
  return optionalComponent<Offload>(components, 'offload')
}

/** The federated service's read-only view, when the node runs one. */
export function readFederated (components: ControlApiComponents): FederatedView | undefined {
  return optionalComponent<ControlApiComponents['federated']>(components, 'federated')
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
  const stats = offload == null ? null : safely(() => offload.stats(), null)
  return {
    status,
    offload: stats,
    federated: federated == null ? [] : recentRuns(safely(() => federated.runs(), [])),
    topology: buildTopology(status),
    fleet: buildFleet(status, stats)
  }
}
