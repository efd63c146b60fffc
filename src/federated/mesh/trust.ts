/**
 * Who may make this node train or coordinate (docs/security.md, "Federated
 * runs"). A node trains only for runs it started itself or whose coordinator
 * it trusts, and obeys START and CANCEL only from peers it trusts. Trusted are:
 *
 * - the peers named by `--trust <peer id>` and in `--trust-file`;
 * - the peers it bootstraps from, by the `/p2p/<id>` pinned in `--bootstrap`;
 * - with a mesh key *and* `--trust-mesh`, every connected peer (each one
 *   proved it holds the key when it connected).
 *
 * A peer's self-declared role (`seed` in its load reports) confers nothing.
 * The decisions are pure functions of a `TrustPolicy`, so they are unit-tested.
 */
import { readFile } from 'node:fs/promises'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidConfigError } from '../../errors.js'

/** What this node trusts, resolved once at start. */
export interface TrustPolicy {
  /** Peer ids trusted by name (flags, trust file) or by bootstrap pinning. */
  peers: ReadonlySet<string>
  /** Every peer that could connect is trusted (a mesh key is set and the user asked for it). */
  meshMembers: boolean
}

/** Why a peer is trusted, or `undefined` when it is not. */
export type TrustReason = 'self' | 'named' | 'mesh-member'

/** The trust decision for `peerId`. */
export function trustOf (policy: TrustPolicy, selfId: string, peerId: string): TrustReason | undefined {
  if (peerId === selfId) return 'self'
  if (policy.peers.has(peerId)) return 'named'
  if (policy.meshMembers) return 'mesh-member'
  return undefined
}

/** True when `peerId` may make this node train, or ask it to coordinate or cancel. */
export function isTrusted (policy: TrustPolicy, selfId: string, peerId: string): boolean {
  return trustOf(policy, selfId, peerId) !== undefined
}

/** Base58btc peer ids (`12D3KooW…`, `Qm…`): what a trust list line must look like. */
const PEER_ID_PATTERN = /^[1-9A-HJ-NP-Za-km-z]{32,128}$/

/** Parse a trust file: one peer id per line, `#` starts a comment, blank lines ignored. */
export function parseTrustList (text: string, source = 'trust file'): string[] {
  const ids: string[] = []
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim()
    if (line === '') return
    if (!PEER_ID_PATTERN.test(line)) throw new InvalidConfigError(`${source} line ${i + 1}: expected a peer id`)
    ids.push(line)
  })
  return ids
}

/** Read and parse a trust file (`--trust-file`); InvalidConfigError when it is missing or malformed. */
export async function readTrustFile (path: string): Promise<string[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err: any) {
    throw new InvalidConfigError(`trustFile ${path}: ${err?.code === 'ENOENT' ? 'not found' : 'cannot be read'}`)
  }
  return parseTrustList(text, `trustFile ${path}`)
}

/** Check peer ids given on the command line or in a config file. */
export function checkPeerIds (ids: readonly string[], source = 'trust'): string[] {
  for (const id of ids) if (!PEER_ID_PATTERN.test(id)) throw new InvalidConfigError(`${source}: "${id.slice(0, 80)}" is not a peer id`)
  return [...ids]
}

/** The peer ids pinned by `/p2p/<id>` in bootstrap multiaddrs (addresses without one pin nothing). */
export function bootstrapPeerIds (addrs: readonly string[]): string[] {
  const ids: string[] = []
  for (const text of addrs) {
    const id = multiaddr(text).getComponents().findLast((c) => c.name === 'p2p')?.value
    if (id !== undefined) ids.push(id)
  }
  return ids
}

/** Build the policy: named peers, bootstrap peers, and mesh members only when a mesh key is set. */
export function trustPolicy (init: { trust?: readonly string[], bootstrap?: readonly string[], trustMesh?: boolean, meshKey?: boolean }): TrustPolicy {
  return {
    peers: new Set([...(init.trust ?? []), ...bootstrapPeerIds(init.bootstrap ?? [])]),
    meshMembers: init.trustMesh === true && init.meshKey === true
  }
}
