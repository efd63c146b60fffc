/**
 * The known-peers file: peers this node was connected to, with their
 * addresses, most recently seen first. Read at start so a restarted node
 * reconnects without waiting for discovery.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { writeFileAtomic } from '../atomic-write.js'
import { join } from 'node:path'
import { KNOWN_PEERS_FILE, MAX_KNOWN_PEERS } from './constants.js'

export interface KnownPeer {
  peerId: string
  addrs: string[]
  lastSeen: number
}

/** Read the file; a missing or unreadable file is an empty list (it is a cache). */
export async function readKnownPeers (dataDir: string): Promise<KnownPeer[]> {
  try {
    const parsed = JSON.parse(await readFile(join(dataDir, KNOWN_PEERS_FILE), 'utf8'))
    if (!Array.isArray(parsed)) return []
    return parsed.filter((p: any) => typeof p?.peerId === 'string' && Array.isArray(p.addrs))
      .map((p: any) => ({ peerId: p.peerId, addrs: p.addrs.filter((a: unknown) => typeof a === 'string'), lastSeen: Number(p.lastSeen) || 0 }))
      .slice(0, MAX_KNOWN_PEERS)
  } catch {
    return []
  }
}

/** Write atomically and durably (`src/atomic-write.ts`). */
export async function writeKnownPeers (dataDir: string, peers: KnownPeer[]): Promise<void> {
  await mkdir(dataDir, { recursive: true })
  const file = join(dataDir, KNOWN_PEERS_FILE)
  const sorted = [...peers].sort((a, b) => b.lastSeen - a.lastSeen).slice(0, MAX_KNOWN_PEERS)
  await writeFileAtomic(file, JSON.stringify(sorted, null, 2))
}

/** Pure: record a sighting of a peer with (possibly new) addresses. */
export function rememberPeer (peers: ReadonlyMap<string, KnownPeer>, peerId: string, addrs: string[], now: number): Map<string, KnownPeer> {
  const next = new Map(peers)
  const previous = next.get(peerId)
  const merged = addrs.length > 0 ? addrs : previous?.addrs ?? []
  next.set(peerId, { peerId, addrs: [...new Set(merged)].slice(0, 16), lastSeen: now })
  return next
}
