/**
 * @packageDocumentation
 *
 * Who may join a mesh: a pre-shared mesh key (private mesh), an optional
 * allow-list of peer ids in the connection gater, per-host inbound limits with
 * a reserve of slots for newcomers, and the address ranges a node dials
 * because of gossip.
 *
 * @example
 * ```sh
 * edge-mesh keygen --out mesh.key
 * edge-mesh start --mesh-key mesh.key --allow-peers peers.txt --dial-ranges 192.168.1.0/24
 * ```
 */
export { generateMeshKey, writeMeshKey, readMeshKey, meshServiceTag, KEY_HEADER } from './mesh-key.js'
export { readAllowList, AdmissionPolicy } from './allow-list.js'
export type { PeerBans } from './allow-list.js'
export { InboundHostLimiter, hostKey, inboundRefusal } from './host-limits.js'
export type { HostLimits, InboundRefusal } from './host-limits.js'
export { dialRangeFilter } from './dial-ranges.js'
export type { AddressFilter } from './dial-ranges.js'
