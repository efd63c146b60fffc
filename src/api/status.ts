/**
 * The `GET /status` document: this node, its addresses and load, and every
 * peer it knows (connected, or heard of through load gossip).
 */
import { optionalComponent } from '../optional-component.js'
import { modelStatus } from './model-status.js'
import type { ModelStatus } from './model-status.js'
import type { ControlApiComponents, NodeInfo } from './index.js'
import type { ProcessHealth } from './process-health.js'
import { readOffload } from './snapshot.js'
import type { LoadReport } from '../gossip/types.js'
import type { ModelBudgetUsage } from '../model/types.js'
import type { SpotCheckCounts } from '../offload/spot-check.js'

export interface PeerStatus {
  peerId: string
  name: string | null
  role: string | null
  connected: boolean
  addresses: string[]
  load: LoadReport | null
  loadAgeMs: number | null
}

export interface NodeStatus {
  peerId: string
  name: string
  role: string
  addresses: string[]
  backend: string
  uptimeMs: number
  startedAt: number
  /** Operating-system process id of the node. */
  pid: number
  /** Memory and event-loop delay of the node's process. */
  process: ProcessHealth
  load: LoadReport | null
  /** Each loaded model: format, input signature, micro-batching and measured inference time (see `ModelStatus`). */
  models: ModelStatus[]
  /** Live TF.js tensors and their bytes (a steady count under load means no tensor leak). */
  tensors: { count: number, bytes: number }
  /** The model memory budget (`--model-memory`, `--max-models`) and what is loaded within it. */
  modelMemory: ModelBudgetUsage | null
  /** What spot checks of peers' inference results found (`--spot-check`). */
  spotChecks: SpotCheckCounts | null
  connections: number
  peers: PeerStatus[]
  /** Names this node knows for the models held here and announced by peers, by content id. */
  modelNames?: Record<string, string>
}

export function buildStatus (components: ControlApiComponents, info: NodeInfo, now: number): NodeStatus {
  const health = info.health?.sample() ?? { rssBytes: process.memoryUsage().rss, heapUsedBytes: 0, externalBytes: 0, eventLoopLagP50Ms: 0, eventLoopLagP99Ms: 0, eventLoopLagMaxMs: 0 }
  const { peerId, addressManager, connectionManager, loadView } = components
  const models = optionalComponent<ControlApiComponents['models']>(components, 'models')
  const connected = new Map<string, string[]>()
  for (const conn of connectionManager.getConnections()) {
    const id = conn.remotePeer.toString()
    connected.set(id, [...(connected.get(id) ?? []), conn.remoteAddr.toString()])
  }
  const loads = new Map(loadView.peers().map(p => [p.peerId, p]))
  const ids = new Set([...connected.keys(), ...loads.keys()])
  const peers = [...ids].sort().map((id): PeerStatus => {
    const entry = loads.get(id)
    return {
      peerId: id,
      name: entry?.report.name ?? null,
      role: entry?.report.role ?? null,
      connected: connected.has(id),
      addresses: entry?.report.addrs ?? connected.get(id) ?? [],
      load: entry?.report ?? null,
      loadAgeMs: entry == null ? null : now - entry.receivedAt
    }
  })
  return {
    peerId: peerId.toString(),
    name: info.name,
    role: info.role,
    addresses: addressManager.getAddresses().map(a => a.toString()),
    backend: models?.backend ?? 'none',
    uptimeMs: now - info.startedAt,
    startedAt: info.startedAt,
    pid: process.pid,
    process: health,
    load: loadView.self() ?? null,
    models: (models?.list() ?? []).map(m => modelStatus(m, readOffload(components)?.batchRows?.(m.id))),
    tensors: models?.memory?.() ?? { count: 0, bytes: 0 },
    modelMemory: models?.budget?.() ?? null,
    spotChecks: readOffload(components)?.stats().spotChecks ?? null,
    connections: connectionManager.getConnections().length,
    peers,
    modelNames: Object.fromEntries(optionalComponent<ControlApiComponents['modelTransfer']>(components, 'modelTransfer')?.names?.known() ?? [])
  }
}
