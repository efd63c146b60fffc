/**
 * The libp2p parts an application may choose for its edge-mesh node. Each
 * replaces (or, for discovery and services, adds to) what the node uses by
 * default, so a mesh can run over any libp2p transport: `@libp2p/memory`
 * for many nodes in one process, WebSockets, WebRTC, ...
 */
import type { ConnectionEncrypter, PeerDiscovery, PrivateKey, StreamMuxerFactory, Transport } from '@libp2p/interface'

/** A libp2p component factory, as `tcp()` or `memory()` return. */
export type ComponentFactory<T> = (components: any) => T

export interface Libp2pInit {
  /** Transports, instead of the default ones. Listen addresses are the `listen` setting. @default [tcp(), circuitRelayTransport()] */
  transports?: Array<ComponentFactory<Transport>>
  /** Connection encrypters, instead of the default. @default [noise()] */
  connectionEncrypters?: Array<ComponentFactory<ConnectionEncrypter>>
  /** Stream multiplexers, instead of the default. @default [yamux()] */
  streamMuxers?: Array<ComponentFactory<StreamMuxerFactory>>
  /** Peer discovery modules, in addition to mDNS and bootstrap (which follow the `mdns` and `bootstrap` settings). @default [] */
  peerDiscovery?: Array<ComponentFactory<PeerDiscovery>>
  /**
   * More libp2p services, by name, next to edge-mesh's own (`models`, `offload`,
   * `federated`, ...; a name of one of those replaces it). Reach them as `node.libp2p.services[name]`.
   * @default {}
   */
  services?: Record<string, ComponentFactory<unknown>>
  /** The node's identity key. @default read from (or created in) `<dataDir>/peer.key` */
  privateKey?: PrivateKey
}
