/**
 * @packageDocumentation
 *
 * An edge-mesh node: the composition of every capability on one libp2p node.
 *
 * @example
 * ```ts
 * import { createEdgeMeshNode, resolveConfig } from 'edge-mesh'
 *
 * const node = await createEdgeMeshNode(resolveConfig({ name: 'laptop', apiPort: 0 }))
 * await node.start()
 * console.log(node.peerId, node.apiUrl)
 * await node.stop()
 * ```
 */
import { PortInUseError } from '../errors.js'
import { buildLibp2p } from './create-node.js'
import { lockDataDir } from './data-lock.js'
import type { EdgeMeshConfig } from './config.js'

export { resolveConfig } from './config.js'
export type { EdgeMeshConfig } from './config.js'
export { PRESETS } from './presets.js'
export type { PresetName, PresetTimings } from './presets.js'

export type EdgeMeshLibp2p = Awaited<ReturnType<typeof buildLibp2p>>

export interface EdgeMeshNode {
  readonly config: EdgeMeshConfig
  readonly libp2p: EdgeMeshLibp2p
  /** This node's peer id. */
  readonly peerId: string
  /** Control API base URL (after start). */
  readonly apiUrl: string
  /** libp2p addresses others can dial, with /p2p/<id>. */
  addresses(): string[]
  start(): Promise<void>
  stop(): Promise<void>
}

function translateStartError (err: any, config: EdgeMeshConfig): Error {
  const text = `${err?.code ?? ''} ${err?.message ?? ''}`
  if (err?.name === 'PortInUseError') return err
  if (text.includes('EADDRINUSE')) {
    return new PortInUseError(`a listen address is already in use (${config.listen.join(', ')}); choose another port with --listen`)
  }
  if (text.includes('EADDRNOTAVAIL')) {
    return new PortInUseError(`a listen address is not available on this machine (${config.listen.join(', ')})`)
  }
  return err
}

/** Create a node from a resolved configuration (see `resolveConfig`). */
export async function createEdgeMeshNode (config: EdgeMeshConfig): Promise<EdgeMeshNode> {
  // Held from here until stop() (the identity is read from the folder next), and taken again by a later start().
  let unlock: (() => void) | undefined = lockDataDir(config.dataDir)
  const release = (): void => { unlock?.(); unlock = undefined }
  let libp2p: EdgeMeshLibp2p
  try {
    libp2p = await buildLibp2p(config)
  } catch (err) {
    release()
    throw err
  }
  let started = false
  return {
    config,
    libp2p,
    peerId: libp2p.peerId.toString(),
    get apiUrl () { return libp2p.services.api.url },
    addresses: () => libp2p.getMultiaddrs().map(a => a.toString()),
    async start () {
      if (started) return
      unlock ??= lockDataDir(config.dataDir)
      try {
        await libp2p.start()
      } catch (err) {
        try { await libp2p.stop() } catch {}
        release()
        throw translateStartError(err, config)
      }
      started = true
    },
    async stop () {
      if (!started) return
      started = false
      try {
        await libp2p.stop()
      } finally {
        release()
      }
    }
  }
}
