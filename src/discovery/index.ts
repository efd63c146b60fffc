/**
 * @packageDocumentation
 *
 * Discovery: how nodes find each other and stay connected.
 * - on a LAN, libp2p's mDNS announces and finds peers with no configuration;
 * - beyond it, a bootstrap list (usually a seed's multiaddr) gets a node into the mesh;
 * - the mesh dialer then connects directly to every peer it hears of: from mDNS,
 *   from bootstrap, from load reports gossiped through the seed, and from the
 *   known-peers file written before a restart.
 *
 * `discoveryModules()` returns the libp2p peer-discovery modules for a
 * configuration; `meshDialer()` is the service.
 *
 * @example
 * ```ts
 * const node = await createLibp2p({
 *   peerDiscovery: discoveryModules({ mdns: true, bootstrap: [seedAddr] }),
 *   services: { meshDialer: meshDialer({ dataDir: '.edge-mesh/laptop' }) }
 * })
 * ```
 */
import { bootstrap } from '@libp2p/bootstrap'
import { mdns } from '@libp2p/mdns'
import { DEFAULT_REDIAL_MS, DEFAULT_TARGET_PEERS } from './constants.js'
import { MeshDialer } from './mesh-dialer.js'
import type { LoadView } from '../gossip/types.js'
import type { AddressFilter } from '../trust/dial-ranges.js'
import type { ComponentLogger, Libp2pEvents, PeerDiscovery, PeerId, PeerStore, TypedEventTarget } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'

export type { KnownPeer } from './known-peers.js'
export type { MeshDialer }

export interface DiscoveryModulesInit {
  /** Announce and discover on the LAN by mDNS. @default true */
  mdns?: boolean
  /** mDNS query interval, ms. @default 10000 */
  mdnsIntervalMs?: number
  /** Multiaddrs to bootstrap from. @default [] */
  bootstrap?: string[]
  /** Service tag: nodes only discover nodes announcing the same tag. @default 'edge-mesh.local' */
  serviceTag?: string
}

/** The libp2p peer-discovery modules for these settings. */
export function discoveryModules (init: DiscoveryModulesInit = {}): Array<(components: any) => PeerDiscovery> {
  const modules: Array<(components: any) => PeerDiscovery> = []
  if (init.mdns ?? true) {
    modules.push(mdns({ interval: init.mdnsIntervalMs ?? 10_000, serviceTag: init.serviceTag ?? 'edge-mesh.local' }))
  }
  if ((init.bootstrap ?? []).length > 0) {
    modules.push(bootstrap({ list: init.bootstrap ?? [], timeout: 0 }))
  }
  return modules
}

export interface MeshDialerInit {
  /** Where `peers.json` is kept. */
  dataDir: string
  /** Stop dialling new peers above this many connections. @default 128 */
  maxConnections?: number
  /** Dial peers heard of through gossip or mDNS only while fewer than this many are connected or being dialled (others are reached on demand). @default 6 */
  targetPeers?: number
  /** First redial wait after a failure or drop, ms; doubles up to 60 s. @default 5000 */
  redialMs?: number
  /** Bootstrap multiaddrs (with /p2p/<id>): remembered for good and redialled until they answer. @default [] */
  bootstrap?: string[]
  /** Which gossiped addresses may be dialled. @default every address */
  dialFilter?: AddressFilter
}

export interface DiscoveryComponents {
  peerId: PeerId
  logger: ComponentLogger
  events: TypedEventTarget<Libp2pEvents>
  peerStore: Pick<PeerStore, 'merge'>
  connectionManager: Pick<ConnectionManager, 'openConnection' | 'getConnections'>
  /**
   * Optional: with load gossip the dialer also dials the addresses peers
   * announce in their load reports; without it, only discovery and known
   * peers. Read with `optionalComponent` (absent components throw).
   */
  loadView?: Pick<LoadView, 'addEventListener' | 'removeEventListener'>
}

/** Create the mesh dialer service. */
export function meshDialer (init: MeshDialerInit): (components: DiscoveryComponents) => MeshDialer {
  return (components) => new MeshDialer(components, {
    dataDir: init.dataDir,
    maxConnections: init.maxConnections ?? 128,
    targetPeers: init.targetPeers ?? DEFAULT_TARGET_PEERS,
    redialMs: init.redialMs ?? DEFAULT_REDIAL_MS,
    dialFilter: init.dialFilter ?? { allows: () => true },
    bootstrap: init.bootstrap ?? []
  })
}
