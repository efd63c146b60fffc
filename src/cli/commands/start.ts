/**
 * `edge-mesh start` and `edge-mesh seed`: run one node until Ctrl-C, SIGTERM,
 * or (for a node started by another edge-mesh process) the end of its parent.
 * libp2p and TF.js are loaded here only when a node really starts.
 */
import { existsSync } from 'node:fs'
import { InvalidConfigError } from '../../errors.js'
import { parseFlags } from '../args.js'
import { BOOTSTRAP_SETTLED_MS, watchBootstrap } from '../bootstrap-warning.js'
import { joinAddresses, joinHintLines } from '../join-hint.js'
import { NODE_FLAGS, NODE_FLAGS_HELP } from '../node-flag-specs.js'
import { emit, printable, shortId } from '../output.js'
import { watchParentPipe } from '../parent-watch.js'
import type { EdgeMeshNode } from '../../node/index.js'
import type { EdgeMeshConfig } from '../../node/config.js'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

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

/** Stop the node on the first SIGINT/SIGTERM or when the parent process is gone; a second signal forces exit. */
function stopOnSignals (node: EdgeMeshNode): Promise<void> {
  return new Promise(resolve => {
    let stopping = false
    let unwatchParent = (): void => {}
    const onSignal = (signal: string): void => {
      if (stopping) process.exit(130)
      stopping = true
      unwatchParent()
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
    unwatchParent = watchParentPipe(() => { onSignal('parent exited') })
  })
}

/** A `--model` that is neither a folder nor a packaged model name is a configuration error (exit 2), not a load failure. */
async function checkModelSources (models: string[]): Promise<void> {
  const { isPackagedModelName } = await import('../../model/packaged.js')
  for (const model of models) {
    if (!isPackagedModelName(model) && !existsSync(model)) {
      throw new InvalidConfigError(`--model ${model}: no such folder (give a TF.js model folder, or a packaged model such as human:movenet-lightning)`)
    }
  }
}

/** The start-up message: ids, addresses, the models served and, for a seed, how others join. */
function readyMessage (node: EdgeMeshNode, config: EdgeMeshConfig): void {
  const models = node.libp2p.services.models.list().map(m => ({ id: m.id, name: m.name }))
  const apiTokenFile = node.libp2p.services.api.tokenFile
  const addresses = node.addresses()
  const status = {
    peerId: node.peerId,
    name: config.name,
    role: config.role,
    apiUrl: node.apiUrl,
    addresses,
    backend: node.libp2p.services.models.backend,
    dataDir: config.dataDir,
    apiTokenFile,
    models,
    ...(config.role === 'seed' ? { join: joinAddresses(addresses) } : {})
  }
  emit(config.logFormat, 'ready', status, [
    `edge-mesh ${config.role} "${config.name}" is running`,
    `  peer id:     ${node.peerId}`,
    `  control API: ${node.apiUrl}  (status: edge-mesh status --api ${node.apiUrl}${apiTokenFile != null ? ` --api-token-file ${apiTokenFile}` : ''})`,
    apiTokenFile != null ? `  API token:   in ${apiTokenFile} (send it as "Authorization: Bearer <token>")` : '',
    `  backend:     ${status.backend}`,
    `  data dir:    ${config.dataDir}`,
    ...(models.length > 0 ? ['  models (infer --model <id or name>):', ...models.map(m => `    ${printable(m.name)}  ${m.id}`)] : []),
    '  listening:',
    ...addresses.map(a => `    ${a}`),
    ...(config.role === 'seed' ? joinHintLines(addresses) : []),
    'Press Ctrl-C to stop.'
  ].filter(l => l !== '').join('\n'))
}

/** Warn once when the bootstrap peers refuse this node (bootstrap-warning.ts): failed dials and bootstrap connections that close. */
function watchBootstrapOf (node: EdgeMeshNode, config: EdgeMeshConfig, multiaddr: (addr: string) => Multiaddr): () => void {
  const bootstrapIds = new Set(config.bootstrap.map(a => a.split('/p2p/')[1]).filter(id => id != null))
  let drops = 0
  const onDisconnect = (evt: CustomEvent<PeerId>): void => { if (bootstrapIds.has(evt.detail.toString())) drops++ }
  node.libp2p.addEventListener('peer:disconnect', onDisconnect)
  const unwatch = watchBootstrap({
    bootstrap: config.bootstrap,
    meshKey: config.meshKey != null,
    settled: () => node.libp2p.getConnections().some(c => Date.now() - c.timeline.open >= BOOTSTRAP_SETTLED_MS),
    refusals: () => node.libp2p.services.meshDialer.stats().dialFailures + drops,
    dial: async (addr, signal) => { await node.libp2p.dial(multiaddr(addr), { signal }) },
    warn: (message, fields) => {
      if (config.logFormat === 'json') emit('json', 'warning', { reason: 'bootstrap-refused', ...fields }, message)
      process.stderr.write(`edge-mesh: ${message}\n`)
    }
  })
  return () => {
    unwatch()
    node.libp2p.removeEventListener('peer:disconnect', onDisconnect)
  }
}

export async function runNode (argv: string[], role: 'edge' | 'seed'): Promise<void> {
  const { values } = parseFlags(argv, NODE_FLAGS)
  if (values.help === true) { process.stdout.write((role === 'seed' ? SEED_HELP : START_HELP) + '\n'); return }
  const { configFromSources } = await import('../node-flags.js')
  const config = configFromSources(values, process.env, role)
  await checkModelSources(config.models)
  // A running node never dies of one failed background task: log it and keep serving.
  process.on('unhandledRejection', (reason: any) => {
    process.stderr.write(`edge-mesh: background task failed: ${reason?.name ?? 'Error'}: ${reason?.message ?? String(reason)}\n`)
  })
  // Info lines (each federated round, on the coordinator and its participants) are part of a node's output; DEBUG adds to them.
  const { enable: enableLogs } = await import('@libp2p/logger')
  const { INFO_LOG_NAMESPACES } = await import('../../federated/mesh/round-log.js')
  enableLogs([process.env.DEBUG, INFO_LOG_NAMESPACES].filter((n) => n !== undefined && n !== '').join(','))
  const { createEdgeMeshNode } = await import('../../node/index.js')
  const { multiaddr } = await import('@multiformats/multiaddr')
  const node = await createEdgeMeshNode(config)
  await node.start()
  // Handlers before "ready": a SIGTERM sent as soon as the node says it is ready still stops it cleanly (and frees its data-dir lock).
  const stopped = stopOnSignals(node)
  readyMessage(node, config)
  watchPeers(node)
  const unwatchBootstrap = watchBootstrapOf(node, config, multiaddr)
  await stopped
  unwatchBootstrap()
}
