/** Routes every node serves: status, health and Prometheus metrics. */
import { optionalComponent } from '../../optional-component.js'
import { sendJson } from '../errors.js'
import { formatMetrics } from '../metrics.js'
import { buildStatus } from '../status.js'
import type { ControlApiComponents, NodeInfo, Route } from '../index.js'
import type { MetricFamily } from '../metrics.js'

function coreMetrics (components: ControlApiComponents, info: NodeInfo): MetricFamily[] {
  const status = buildStatus(components, info, Date.now())
  const gossip = components.loadView.stats()
  const self = components.loadView.self()
  const dialer = optionalComponent<ControlApiComponents['meshDialer']>(components, 'meshDialer')?.stats()
  const trust = optionalComponent<ControlApiComponents['trust']>(components, 'trust')?.stats()
  return [
    { name: 'edge_mesh_peers_banned_total', help: 'Peers banned for a while for abusing a protocol (too many malformed frames).', type: 'counter', samples: [{ value: trust?.bansIssued ?? 0 }] },
    { name: 'edge_mesh_connections_refused_total', help: 'Connections refused by the connection gater (allow-list or a ban).', type: 'counter', samples: [{ value: trust?.refused ?? 0 }] },
    { name: 'edge_mesh_inbound_connections_refused_total', help: 'Inbound connections refused before the handshake: per_host (the host holds maxConnectionsPerHost) or reserve (the last slots are kept for new hosts).', type: 'counter', samples: ['per_host', 'reserve'].map(reason => ({ labels: { reason }, value: trust?.inboundRefused?.[reason] ?? 0 })) },
    { name: 'edge_mesh_dials_total', help: 'Dials started by the mesh dialer (discovery, gossip, reconnection).', type: 'counter', samples: [{ value: dialer?.dials ?? 0 }] },
    { name: 'edge_mesh_dial_failures_total', help: 'Dials by the mesh dialer that failed (unreachable, refused, wrong mesh key, not allowed).', type: 'counter', samples: [{ value: dialer?.dialFailures ?? 0 }] },
    { name: 'edge_mesh_info', help: 'Constant 1, labelled with this node\'s identity.', type: 'gauge', samples: [{ labels: { peer_id: status.peerId, name: info.name, role: info.role, backend: status.backend }, value: 1 }] },
    { name: 'edge_mesh_uptime_seconds', help: 'Seconds since the node started.', type: 'gauge', samples: [{ value: status.uptimeMs / 1000 }] },
    { name: 'edge_mesh_connections', help: 'Open libp2p connections.', type: 'gauge', samples: [{ value: status.connections }] },
    { name: 'edge_mesh_peers_connected', help: 'Distinct peers with an open connection.', type: 'gauge', samples: [{ value: status.peers.filter(p => p.connected).length }] },
    { name: 'edge_mesh_peers_known', help: 'Peers known by connection or by a live load report.', type: 'gauge', samples: [{ value: status.peers.length }] },
    { name: 'edge_mesh_load_reports_sent_total', help: 'Load reports this node published.', type: 'counter', samples: [{ value: gossip.sent }] },
    { name: 'edge_mesh_load_reports_received_total', help: 'Load reports accepted from peers.', type: 'counter', samples: [{ value: gossip.received }] },
    { name: 'edge_mesh_load_reports_rejected_total', help: 'Load reports rejected by the validator (malformed, oversized, far-future, unsigned).', type: 'counter', samples: [{ value: gossip.rejected }] },
    { name: 'edge_mesh_cpu_utilisation', help: 'This node\'s process CPU use as a fraction of the machine, last interval.', type: 'gauge', samples: [{ value: self?.cpu ?? 0 }] },
    { name: 'edge_mesh_process_resident_memory_bytes', help: 'Resident memory of the node process.', type: 'gauge', samples: [{ value: status.process.rssBytes }] },
    { name: 'edge_mesh_process_heap_used_bytes', help: 'V8 heap in use.', type: 'gauge', samples: [{ value: status.process.heapUsedBytes }] },
    { name: 'edge_mesh_process_external_memory_bytes', help: 'Memory outside the V8 heap (ArrayBuffers, WebAssembly).', type: 'gauge', samples: [{ value: status.process.externalBytes }] },
    { name: 'edge_mesh_model_tensors', help: 'Live TF.js tensors.', type: 'gauge', samples: [{ value: status.tensors.count }] },
    { name: 'edge_mesh_model_tensor_bytes', help: 'Bytes held by live TF.js tensors.', type: 'gauge', samples: [{ value: status.tensors.bytes }] },
    { name: 'edge_mesh_event_loop_lag_ms', help: 'Event-loop delay of the node process over the last 10-20 s.', type: 'gauge', samples: [{ labels: { quantile: '0.5' }, value: status.process.eventLoopLagP50Ms }, { labels: { quantile: '0.99' }, value: status.process.eventLoopLagP99Ms }] },
    { name: 'edge_mesh_models_loaded', help: 'Models this node can serve.', type: 'gauge', samples: [{ value: status.models.length }] }
  ]
}

export function coreRoutes (components: ControlApiComponents, info: NodeInfo, extraMetrics: () => MetricFamily[]): Route[] {
  return [
    { method: 'GET', path: '/status', handle: (_req, res) => { sendJson(res, 200, buildStatus(components, info, Date.now())) } },
    { method: 'GET', path: '/health', public: true, handle: (_req, res) => { sendJson(res, 200, { ok: true }) } },
    {
      method: 'GET',
      path: '/metrics',
      handle: (_req, res) => {
        const text = formatMetrics([...coreMetrics(components, info), ...extraMetrics()])
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
        res.end(text)
      }
    }
  ]
}
