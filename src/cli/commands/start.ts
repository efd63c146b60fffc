/** `edge-mesh start` and `edge-mesh seed`: run one node until Ctrl-C or SIGTERM. */
import { enable as enableLogs } from '@libp2p/logger'
import { createEdgeMeshNode } from '../../node/index.js'
import { INFO_LOG_NAMESPACES } from '../../federated/mesh/round-log.js'
import { parseFlags } from '../args.js'
import { NODE_FLAGS, NODE_FLAGS_HELP, configFromSources } from '../node-flags.js'
import { emit, shortId } from '../output.js'
import type { EdgeMeshNode } from '../../node/index.js'
import type { PeerId } from '@libp2p/interface'

export const START_HELP = `Usage: edge-mesh start [options]
Start an edge node: it discovers peers (mDNS, bootstrap), gossips its load,
serves inference and takes part in federated runs.

${NODE_FLAGS_HELP}`

export const SEED_HELP = `Usage: edge-mesh seed [options]
Start an always-on seed node: bootstrap for others, circuit-relay server for
peers that cannot be dialled directly, and coordinator of federated runs.
mDNS is off unless --mdns is given; the default listen port is 4010.

${NODE_FLAGS_HELP}`

function watchPeers (node: EdgeMeshNode): void {
  const format = node.config.logFormat
  node.libp2p.addEventListener('peer:connect', (evt: CustomEvent<PeerId>) => {
    const peerId = evt.detail.toString()
    emit(format, 'peer:connect', { peerId }, `  + connected to ${shortId(peerId)}`)
  })
  node.libp2p.addEventListener('peer:disconnect', (evt: CustomEvent<PeerId>) => {
    const peerId = evt.detail.toString()
    emit(format, 'peer:disconnect', { peerId }, `  - disconnected from ${shortId(peerId)}`)
  })
}

/** Stop the node on the first SIGINT/SIGTERM; a second one forces exit. */
function stopOnSignals (node: EdgeMeshNode): Promise<void> {
  return new Promise(resolve => {
    let stopping = false
    const onSignal = (signal: string): void => {
      if (stopping) process.exit(130)
      stopping = true
      emit(node.config.logFormat, 'stopping', { signal }, `stopping (${signal})…`)
      const force = setTimeout(() => process.exit(1), 10_000)
      force.unref()
      node.stop().finally(() => {
        emit(node.config.logFormat, 'stopped', {}, 'stopped')
        resolve()
      })
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}

export async function runNode (argv: string[], role: 'edge' | 'seed'): Promise<void> {
  const { values } = parseFlags(argv, NODE_FLAGS)
  if (values.help === true) { process.stdout.write((role === 'seed' ? SEED_HELP : START_HELP) + '\n'); return }
  const config = configFromSources(values, process.env, role)
  // Info lines (each federated round, on the coordinator and its participants) are part of a node's output; DEBUG adds to them.
  enableLogs([process.env.DEBUG, INFO_LOG_NAMESPACES].filter((n) => n !== undefined && n !== '').join(','))
  // A running node never dies of one failed background task: log it and keep serving.
  process.on('unhandledRejection', (reason: any) => {
    process.stderr.write(`edge-mesh: background task failed: ${reason?.name ?? 'Error'}: ${reason?.message ?? String(reason)}\n`)
  })
  const node = await createEdgeMeshNode(config)
  await node.start()
  // Handlers before "ready": a SIGTERM sent as soon as the node says it is ready still stops it cleanly (and frees its data-dir lock).
  const stopped = stopOnSignals(node)
  const status = {
    peerId: node.peerId,
    name: config.name,
    role: config.role,
    apiUrl: node.apiUrl,
    addresses: node.addresses(),
    backend: node.libp2p.services.models.backend,
    dataDir: config.dataDir,
    apiTokenFile: node.libp2p.services.api.tokenFile
  }
  emit(config.logFormat, 'ready', status, [
    `edge-mesh ${config.role} "${config.name}" is running`,
    `  peer id:     ${node.peerId}`,
    `  control API: ${node.apiUrl}  (status: edge-mesh status --api ${node.apiUrl}${status.apiTokenFile != null ? ` --api-token-file ${status.apiTokenFile}` : ''})`,
    status.apiTokenFile != null ? `  API token:   in ${status.apiTokenFile} (send it as "Authorization: Bearer <token>")` : '',
    `  backend:     ${status.backend}`,
    `  data dir:    ${config.dataDir}`,
    '  listening:',
    ...status.addresses.map(a => `    ${a}`),
    config.role === 'seed' ? `  others join with: edge-mesh start --bootstrap ${status.addresses[0] ?? '<address>'}` : '',
    'Press Ctrl-C to stop.'
  ].filter(l => l !== '').join('\n'))
  watchPeers(node)
  await stopped
}
