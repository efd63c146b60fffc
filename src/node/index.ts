/**
 * @packageDocumentation
 *
 * An edge-mesh node: the composition of every capability on one libp2p node.
 * `createEdgeMeshNode(init?)` fills every setting it is not given with its
 * documented default (`EdgeMeshConfig`), validates them, builds the node and
 * starts it.
 *
 * @example
 * ```ts
 * import { createEdgeMeshNode } from 'edge-mesh'
 *
 * const node = await createEdgeMeshNode({ name: 'laptop', apiPort: 0, mdns: false })
 * const model = await node.services.models.createMlp({ inputSize: 4, hidden: [8], classes: 2, seed: 1 })
 * const { outputs, servedBy } = await node.infer(model.id, [[0.1, 0.2, 0.3, 0.4]])
 * console.log(servedBy === node.peerId, outputs[0].data)
 * await node.stop()
 * ```
 */
import { PortInUseError } from '../errors.js'
import { resolveConfig } from './config.js'
import { buildLibp2p } from './create-node.js'
import { lockDataDir } from './data-lock.js'
import { tensors } from './tensor-input.js'
import type { EdgeMeshConfig } from './config.js'
import type { Libp2pInit } from './libp2p-init.js'
import type { TensorInput } from './tensor-input.js'
import type { StartedRun } from '../federated/mesh/service-api.js'
import type { RunSpec } from '../federated/mesh/runs.js'
import type { InferOptions, InferResult } from '../offload/types.js'
import type { AbortOptions } from '@libp2p/interface'

export { resolveConfig } from './config.js'
export type { EdgeMeshConfig } from './config.js'
export { PRESETS } from './presets.js'
export type { PresetName, PresetTimings } from './presets.js'
export { tensor, tensors } from './tensor-input.js'
export type { NestedNumbers, TensorInput } from './tensor-input.js'
export type { ComponentFactory, Libp2pInit } from './libp2p-init.js'

export type EdgeMeshLibp2p = Awaited<ReturnType<typeof buildLibp2p>>

/** The node's services: `models`, `offload`, `federated`, `loadView`, `localLoad`, `meshDialer`, `api`, `pubsub`, ... */
export type EdgeMeshServices = EdgeMeshLibp2p['services']

/**
 * What `createEdgeMeshNode` takes: any of the settings of `EdgeMeshConfig`
 * (each optional, with the default documented there), plus libp2p parts.
 */
export interface EdgeMeshInit extends Partial<EdgeMeshConfig> {
  /** Start the node before returning it, as libp2p's `createLibp2p` does. @default true */
  start?: boolean
  /** Transports, encrypters, muxers, discovery, extra services, identity. @default TCP, Noise, yamux, mDNS/bootstrap, a key in `dataDir` */
  libp2p?: Libp2pInit
}

export interface EdgeMeshNode {
  /** The validated settings, every default filled in. */
  readonly config: EdgeMeshConfig
  readonly libp2p: EdgeMeshLibp2p
  /** The capabilities of this node; each is an event target (see their `*Events` types). */
  readonly services: EdgeMeshServices
  /** This node's peer id. */
  readonly peerId: string
  /** Control API base URL (after start). */
  readonly apiUrl: string
  /** libp2p addresses others can dial, with /p2p/<id>. */
  addresses(): string[]
  /**
   * Run an inference on the mesh (this node or a peer, whichever the scheduler picks).
   * `inputs` is one tensor (`[[...784 numbers]]`, a typed array, `{ shape, data }`) or a list of them.
   */
  infer(modelId: string, inputs: TensorInput | TensorInput[], options?: InferOptions): Promise<InferResult>
  /** Start a federated run (coordinated by a seed when one is in sight, else by this node). */
  startRun(spec: RunSpec, options?: AbortOptions): Promise<StartedRun>
  /** Start libp2p and every service; safe to call twice. */
  start(): Promise<void>
  /** Stop every service and close every connection; safe to call twice. */
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

/**
 * Create an edge-mesh node and (unless `start: false`) start it.
 *
 * @throws InvalidConfigError or InvalidMultiaddrError naming a bad setting; PortInUseError when a listen address is taken;
 * DataDirLockedError when another running node uses the same `dataDir`
 */
export async function createEdgeMeshNode (init: EdgeMeshInit = {}): Promise<EdgeMeshNode> {
  const { start: startNow = true, libp2p: libp2pInit, ...settings } = init
  const config = resolveConfig(settings)
  // Held from here until stop() (the identity is read from the folder next), and taken again by a later start().
  let unlock: (() => void) | undefined = lockDataDir(config.dataDir)
  const release = (): void => { unlock?.(); unlock = undefined }
  let libp2p: EdgeMeshLibp2p
  try {
    libp2p = await buildLibp2p(config, libp2pInit)
  } catch (err) {
    release()
    throw err
  }
  let started = false
  const node: EdgeMeshNode = {
    config,
    libp2p,
    services: libp2p.services,
    peerId: libp2p.peerId.toString(),
    get apiUrl () { return libp2p.services.api.url },
    addresses: () => libp2p.getMultiaddrs().map(a => a.toString()),
    infer: async (modelId, inputs, options) => libp2p.services.offload.infer(modelId, tensors(inputs), options),
    startRun: async (spec, options) => libp2p.services.federated.startRun(spec, options),
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
      if (!started) { release(); return }
      started = false
      try {
        await libp2p.stop()
      } finally {
        release()
      }
    }
  }
  if (startNow) await node.start()
  return node
}
