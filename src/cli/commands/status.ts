/** `edge-mesh status`: a node, its peers and their load, as a table or JSON. */
import { parseFlags } from '../args.js'
import { API_TOKEN_HELP, DEFAULT_API_URL, apiToken, callApi } from '../api-client.js'
import { formatBytes, formatDuration, printable, printableJson, shortId, table } from '../output.js'
import { formatSignature } from '../../api/model-status.js'
import type { NodeStatus } from '../../api/status.js'

export const STATUS_HELP = `Usage: edge-mesh status [--api <url>] [--json]
Show a node, its peers and their load. Names and other strings from peers are
printed with control characters escaped (\\x1b, \\u202e).
  --api <url>   control API of the node (${DEFAULT_API_URL})
  --json        print the raw JSON of GET /status
${API_TOKEN_HELP}`

/** Models peers announce that this node does not hold: content id, name when known, how many peers serve it. */
function meshModels (s: NodeStatus): string[] {
  const local = new Set(s.models.map(m => m.id))
  const servers = new Map<string, number>()
  for (const p of s.peers) for (const id of p.load?.models ?? []) if (!local.has(id)) servers.set(id, (servers.get(id) ?? 0) + 1)
  if (servers.size === 0) return []
  return ['', table(['MODEL ON PEERS', 'ID', 'SERVED BY'], [...servers].map(([id, peers]) => [s.modelNames?.[id] ?? '?', id, `${peers} peer(s)`]))]
}

export function renderStatus (s: NodeStatus): string {
  const head = [
    printable(`${s.name} (${s.role})  ${s.peerId}`),
    printable(`backend ${s.backend}   up ${formatDuration(s.uptimeMs)}   connections ${s.connections}   models ${s.models.length}`),
    ...s.addresses.map(a => `  ${printable(a)}`)
  ]
  const rows = s.peers.map(p => [
    shortId(p.peerId), p.name ?? '?', p.role ?? '?', p.connected ? 'yes' : 'no',
    p.load == null ? '-' : `${Math.round(p.load.cpu * 100)}%`,
    p.load == null ? '-' : formatBytes(p.load.memFree),
    p.load == null ? '-' : `${p.load.inFlight}/${p.load.capacity}`,
    p.load == null ? '-' : String(p.load.queued),
    p.load == null ? '-' : String(p.load.models.length),
    p.load?.training === true ? 'yes' : 'no',
    p.loadAgeMs == null ? '-' : `${(p.loadAgeMs / 1000).toFixed(1)}s`
  ])
  const peers = rows.length === 0
    ? 'no peers yet'
    : table(['PEER', 'NAME', 'ROLE', 'CONNECTED', 'CPU', 'FREE MEM', 'BUSY', 'QUEUED', 'MODELS', 'TRAINING', 'REPORT AGE'], rows)
  const models = s.models.length === 0
    ? []
    : ['', table(['MODEL', 'ID', 'FORMAT', 'INPUTS', 'BATCHING', 'P50/INFERENCE'], s.models.map(m => [
        m.name, m.id, m.format + (m.execution === 'async' ? ' (async)' : ''), formatSignature(m.inputs),
        m.microBatching ? (m.batchRows == null ? 'micro-batched' : `micro-batched, <= ${m.batchRows} rows`) : 'fixed batch, none',
        m.timing == null ? '-' : `${m.timing.p50MsPerRow.toFixed(1)} ms`
      ]))]
  return [...head, ...models, ...meshModels(s), '', peers].join('\n')
}

export async function runStatus (argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, { api: { type: 'string' }, json: { type: 'boolean' }, 'api-token-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } })
  if (values.help === true) { process.stdout.write(STATUS_HELP + '\n'); return }
  const status: NodeStatus = await callApi(values.api ?? process.env.EDGE_MESH_API ?? DEFAULT_API_URL, '/status', {}, apiToken(values['api-token-file']))
  process.stdout.write((values.json === true ? printableJson(status) : renderStatus(status)) + '\n')
}
