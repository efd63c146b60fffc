/**
 * An optional allow-list of peer ids, enforced in libp2p's connection gater:
 * a peer not on the list is refused right after the encryption handshake
 * proves its identity, before any protocol (identify, gossip, offload) runs.
 */
import { readFileSync } from 'node:fs'
import { peerIdFromString } from '@libp2p/peer-id'
import { InvalidConfigError } from '../errors.js'
import { InboundHostLimiter } from './host-limits.js'
import type { HostLimits, InboundRefusal } from './host-limits.js'
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'

/** Most peers banned at once; the oldest ban is dropped beyond it. */
const MAX_BANS = 1024

/** Temporary bans of abusive peers, enforced in the connection gater. */
export interface PeerBans {
  ban(peerId: string, ms: number): void
  isBanned(peerId: string): boolean
}

/** Read a file of peer ids: one per line, `#` starts a comment. */
export function readAllowList (path: string): Set<string> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err: any) {
    throw new InvalidConfigError(`allowPeers: cannot read ${path} (${err?.code === 'ENOENT' ? 'not found' : err?.message})`)
  }
  const allowed = new Set<string>()
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim()
    if (line === '') return
    try {
      allowed.add(peerIdFromString(line).toString())
    } catch {
      throw new InvalidConfigError(`allowPeers: line ${index + 1} of ${path} is not a peer id: "${line}"`)
    }
  })
  return allowed
}

/**
 * The admission policy of a node: its connection gater and what it refused.
 * Registered as the `trust` service so status and metrics can read `stats()`.
 */
export class AdmissionPolicy implements PeerBans {
  private refused = 0
  private bansIssued = 0
  /** Temporarily banned peers and when their ban ends (ms since the epoch). */
  private readonly bans = new Map<string, number>()

  private readonly hosts?: InboundHostLimiter
  private openConnections: () => number = () => 0

  /** `limits` caps inbound connections per host (see host-limits.ts); without it there is no per-host cap. */
  constructor (private readonly allowed?: ReadonlySet<string>, limits?: HostLimits) {
    if (limits != null) this.hosts = new InboundHostLimiter(limits, () => this.openConnections())
  }

  /** Count the node's open connections from its connection manager (called when the `trust` service is created). */
  attach (connectionManager: { getConnections(): unknown[] }): this {
    this.openConnections = () => connectionManager.getConnections().length
    return this
  }

  readonly [Symbol.toStringTag] = 'edge-mesh:admission-policy'

  /** Refuse `peerId` for `ms` (a peer that abused a protocol); callers also close its connections. */
  ban (peerId: string, ms: number): void {
    if (this.bans.size >= MAX_BANS) this.bans.delete(this.bans.keys().next().value as string)
    this.bans.set(peerId, Date.now() + ms)
    this.bansIssued++
  }

  isBanned (peerId: string): boolean {
    const until = this.bans.get(peerId)
    if (until == null) return false
    if (until > Date.now()) return true
    this.bans.delete(peerId)
    return false
  }

  private readonly deny = (peer: PeerId): boolean => {
    const id = peer.toString()
    if (this.isBanned(id) || (this.allowed != null && !this.allowed.has(id))) {
      this.refused++
      return true
    }
    return false
  }

  /** The libp2p connection gater enforcing the allow-list (admits everyone without one). */
  gater (): ConnectionGater {
    return {
      denyDialPeer: this.deny,
      denyInboundConnection: (maConn: MultiaddrConnection) => this.hosts?.deny(maConn) ?? false,
      denyInboundUpgradedConnection: (_peer: PeerId, maConn: MultiaddrConnection) => { this.hosts?.settle(maConn); return false },
      denyInboundEncryptedConnection: this.deny,
      denyOutboundEncryptedConnection: this.deny,
      denyInboundRelayedConnection: (_relay, remote) => this.deny(remote)
    }
  }

  stats (): { refused: number, allowListSize: number | null, bansIssued: number, inboundRefused: Record<InboundRefusal, number> } {
    return { refused: this.refused, allowListSize: this.allowed?.size ?? null, bansIssued: this.bansIssued, inboundRefused: { ...(this.hosts?.refusals ?? { per_host: 0, reserve: 0 }) } }
  }
}
