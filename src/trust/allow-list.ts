/**
 * An optional allow-list of peer ids, enforced in libp2p's connection gater:
 * a peer not on the list is refused right after the encryption handshake
 * proves its identity, before any protocol (identify, gossip, offload) runs.
 */
import { readFileSync } from 'node:fs'
import { peerIdFromString } from '@libp2p/peer-id'
import { InvalidConfigError } from '../errors.js'
import type { ConnectionGater, PeerId } from '@libp2p/interface'

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
export class AdmissionPolicy {
  private refused = 0

  constructor (private readonly allowed?: ReadonlySet<string>) {}

  readonly [Symbol.toStringTag] = 'edge-mesh:admission-policy'

  private readonly deny = (peer: PeerId): boolean => {
    if (this.allowed == null || this.allowed.has(peer.toString())) return false
    this.refused++
    return true
  }

  /** The libp2p connection gater enforcing the allow-list (admits everyone without one). */
  gater (): ConnectionGater {
    return {
      denyDialPeer: this.deny,
      denyInboundEncryptedConnection: this.deny,
      denyOutboundEncryptedConnection: this.deny,
      denyInboundRelayedConnection: (_relay, remote) => this.deny(remote)
    }
  }

  stats (): { refused: number, allowListSize: number | null } {
    return { refused: this.refused, allowListSize: this.allowed?.size ?? null }
  }
}
