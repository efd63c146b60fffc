/**
 * Prometheus families of the optional capabilities: inference offload
 * (`edge_mesh_infer_*`, from `Offload.stats()`) and federated runs
 * (`edge_mesh_fed_*`, from `FederatedView.runs()`). A node without the
 * capability serves none of its families. Every name is listed in docs/metrics.md.
 */
import { readFederated, readOffload } from '../snapshot.js'
import type { ControlApiComponents } from '../index.js'
import type { MetricFamily } from '../metrics.js'
import type { RunState, RunSummary } from '../../federated/mesh/service-types.js'
import type { OffloadStats } from '../../offload/types.js'

const RUN_STATES: RunState[] = ['running', 'completed', 'failed', 'aborted', 'cancelled']

export function offloadMetrics (stats: OffloadStats): MetricFamily[] {
  return [
    {
      name: 'edge_mesh_infer_served_total',
      help: 'Inference requests answered: for this node by itself (local), for this node by a peer (remote), by this node for peers (for_peers).',
      type: 'counter',
      samples: [
        { labels: { where: 'local' }, value: stats.servedLocally },
        { labels: { where: 'remote' }, value: stats.servedRemotely },
        { labels: { where: 'for_peers' }, value: stats.servedForPeers }
      ]
    },
    { name: 'edge_mesh_infer_failed_total', help: 'Inference requests of this node that ended in an error.', type: 'counter', samples: [{ value: stats.failed }] },
    {
      name: 'edge_mesh_infer_latency_ms',
      help: 'End-to-end inference latency percentiles over the last minute, ms.',
      type: 'gauge',
      samples: [{ labels: { quantile: '0.5' }, value: stats.p50Ms }, { labels: { quantile: '0.99' }, value: stats.p99Ms }]
    },
    { name: 'edge_mesh_infer_queue_depth', help: 'Inference requests waiting in this node\'s queue.', type: 'gauge', samples: [{ value: stats.queueDepth }] },
    { name: 'edge_mesh_infer_in_flight', help: 'Inference requests executing on this node now.', type: 'gauge', samples: [{ value: stats.inFlight }] },
    { name: 'edge_mesh_infer_capacity', help: 'Concurrent inference jobs this node accepts.', type: 'gauge', samples: [{ value: stats.capacity }] },
    ...spotCheckMetrics(stats),
    ...inboundMetrics(stats)
  ]
}

/** What this node's infer handlers refused or dropped of the requests peers sent it. */
function inboundMetrics (stats: OffloadStats): MetricFamily[] {
  const s = stats.inbound
  if (s == null) return []
  return [
    {
      name: 'edge_mesh_infer_inbound_refused_total',
      help: 'Requests from peers answered with an error frame (busy, unknown model, malformed, ...), and frames whose bytes did not decode (malformed).',
      type: 'counter',
      samples: [{ labels: { reason: 'error_reply' }, value: s.errorReplies }, { labels: { reason: 'malformed' }, value: s.malformed }]
    },
    { name: 'edge_mesh_infer_abusive_peers_total', help: 'Peers reported and banned for sending too many malformed infer frames.', type: 'counter', samples: [{ value: s.abusers }] },
    { name: 'edge_mesh_infer_inbound_cancelled_total', help: 'Requests from peers cancelled by their caller while in flight here (infer 1.1.0).', type: 'counter', samples: [{ value: s.cancelled }] },
    { name: 'edge_mesh_infer_inbound_streams_aborted_total', help: 'Inbound infer streams aborted (timeout, reset, broken framing, write failure).', type: 'counter', samples: [{ value: s.aborted }] }
  ]
}

/** Spot checks of peers' results: checked (by outcome) and peers banned for a wrong answer. */
function spotCheckMetrics (stats: OffloadStats): MetricFamily[] {
  const s = stats.spotChecks
  if (s == null) return []
  return [
    {
      name: 'edge_mesh_infer_spot_checks_total',
      help: 'Remote inference results re-run and compared, by outcome (match, mismatch, failed: no reference in time).',
      type: 'counter',
      samples: [
        { labels: { outcome: 'match' }, value: s.checked - s.mismatches - s.failed },
        { labels: { outcome: 'mismatch' }, value: s.mismatches },
        { labels: { outcome: 'failed' }, value: s.failed }
      ]
    },
    { name: 'edge_mesh_infer_spot_check_bans_total', help: 'Peers banned because a spot check found a wrong answer.', type: 'counter', samples: [{ value: s.bans }] }
  ]
}

/** The run the `edge_mesh_fed_round|accuracy|loss` gauges describe: the most recently started. */
function latestRun (runs: RunSummary[]): RunSummary | undefined {
  return runs.reduce<RunSummary | undefined>((latest, run) => latest == null || run.startedAt >= latest.startedAt ? run : latest, undefined)
}

export function federatedMetrics (runs: RunSummary[], refusals: Record<string, number> = {}, secAggStages: Record<string, number> = {}): MetricFamily[] {
  const latest = latestRun(runs)
  const last = latest?.history.at(-1)
  return [
    {
      name: 'edge_mesh_fed_runs',
      help: 'Federated runs this node knows, by state.',
      type: 'gauge',
      samples: RUN_STATES.map(state => ({ labels: { state }, value: runs.filter(r => r.state === state).length }))
    },
    { name: 'edge_mesh_fed_round', help: 'Rounds completed by the latest federated run.', type: 'gauge', samples: latest == null ? [] : [{ value: latest.completedRounds }] },
    { name: 'edge_mesh_fed_accuracy', help: 'Accuracy of the global model after the latest completed round (0..1).', type: 'gauge', samples: last == null ? [] : [{ value: last.accuracy }] },
    { name: 'edge_mesh_fed_loss', help: 'Loss of the global model after the latest completed round.', type: 'gauge', samples: last == null ? [] : [{ value: last.loss }] },
    {
      name: 'edge_mesh_federated_refusals_total',
      help: 'Federated requests this node refused, by reason (untrusted_hello|untrusted_announce|untrusted_start|untrusted_cancel|epochs|rounds|deadline|coordinated_runs|participating_runs|examples|untrusted_secagg|secagg_sessions).',
      type: 'counter',
      samples: Object.entries(refusals).sort(([a], [b]) => a.localeCompare(b)).map(([reason, value]) => ({ labels: { reason }, value }))
    },
    {
      name: 'edge_mesh_secagg_requests_total',
      help: 'Secure aggregation requests this node received from trusted coordinators, by stage (setup|neighbours|inbox|unmask).',
      type: 'counter',
      samples: Object.entries(secAggStages).sort(([a], [b]) => a.localeCompare(b)).map(([stage, value]) => ({ labels: { stage }, value }))
    }
  ]
}

/** The capability families of one node, read at scrape time (services may start after the API). */
export function capabilityMetrics (components: ControlApiComponents): MetricFamily[] {
  const offload = readOffload(components)
  const federated = readFederated(components)
  return [
    ...(offload == null ? [] : offloadMetrics(offload.stats())),
    ...(federated == null ? [] : federatedMetrics(federated.runs(), federated.refusals?.() ?? {}, federated.secAggStages?.() ?? {}))
  ]
}
