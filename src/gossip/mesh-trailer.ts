/**
 * The part version 3 appends to a load report (docs/protocols.md, "Version 3"):
 * the sender's offload counters, its connection count and up to 16 of its
 * neighbours' peer ids in binary multihash form. With every node's report a
 * node can draw the whole mesh and show the whole fleet's traffic, while a
 * report stays bounded (at most 15 + 16 x 65 bytes more) whatever the mesh's size.
 */
import { peerIdFromMultihash, peerIdFromString } from '@libp2p/peer-id'
import { InvalidMessageError, MessageTooLargeError } from '../errors.js'
import { MAX_NEIGHBOURS, MAX_PEER_ID_BYTES, MAX_TRAFFIC_COUNT } from './constants.js'
import type { Reader } from './codec.js'
import type { LoadReport, OffloadTraffic } from './types.js'

/** Multihash codes a peer id may use: identity (Ed25519, secp256k1 keys inline) and sha2-256 (RSA). */
const IDENTITY = 0x00
const SHA2_256 = 0x12

/** The version 3 fields of a decoded report. */
export type MeshFields = Required<Pick<LoadReport, 'traffic' | 'connections' | 'neighbours'>>

function count (value: number | undefined, max: number): number {
  if (value == null || !Number.isFinite(value) || value < 0) return 0
  return Math.min(Math.floor(value), max)
}

/** A peer id's binary multihash. Throws MessageTooLargeError for an unusable one. */
function peerIdBytes (id: string): Uint8Array {
  let bytes: Uint8Array
  try {
    bytes = peerIdFromString(id).toMultihash().bytes
  } catch {
    throw new MessageTooLargeError(`neighbour ${id} is not a peer id`)
  }
  if (bytes.length > MAX_PEER_ID_BYTES) throw new MessageTooLargeError(`neighbour id longer than ${MAX_PEER_ID_BYTES} bytes`)
  return bytes
}

/**
 * A peer id from its binary multihash: one-byte code (identity or sha2-256),
 * one-byte digest length, digest. The peer-id library checks the digest (an
 * identity digest must hold a valid public key).
 */
function peerIdOf (bytes: Uint8Array): string {
  const code = bytes[0]
  const size = bytes[1]
  if (bytes.length < 2 || (code !== IDENTITY && code !== SHA2_256) || size !== bytes.length - 2) {
    throw new InvalidMessageError('neighbour is not a peer id multihash')
  }
  const own = new Uint8Array(bytes)
  try {
    return peerIdFromMultihash({ code, size, digest: own.subarray(2), bytes: own }).toString()
  } catch {
    throw new InvalidMessageError('neighbour is not a valid peer id')
  }
}

/** The trailer's bytes for `report` (zeros and no neighbours for absent fields). */
export function encodeMeshTrailer (report: LoadReport): Uint8Array {
  const neighbours = report.neighbours ?? []
  if (neighbours.length > MAX_NEIGHBOURS) throw new MessageTooLargeError(`more than ${MAX_NEIGHBOURS} neighbours`)
  const ids = neighbours.map(peerIdBytes)
  const out = new Uint8Array(12 + 2 + 1 + ids.reduce((n, id) => n + 1 + id.length, 0))
  const view = new DataView(out.buffer)
  const traffic = report.traffic
  view.setUint32(0, count(traffic?.servedLocally, MAX_TRAFFIC_COUNT))
  view.setUint32(4, count(traffic?.servedRemotely, MAX_TRAFFIC_COUNT))
  view.setUint32(8, count(traffic?.servedForPeers, MAX_TRAFFIC_COUNT))
  view.setUint16(12, count(Math.max(report.connections ?? 0, ids.length), 0xffff))
  view.setUint8(14, ids.length)
  let o = 15
  for (const id of ids) {
    out[o] = id.length
    out.set(id, o + 1)
    o += 1 + id.length
  }
  return out
}

/** Read the trailer. Throws InvalidMessageError for a count above its limit, a bad id or a duplicate. */
export function decodeMeshTrailer (r: Reader): MeshFields {
  const traffic: OffloadTraffic = {
    servedLocally: r.u32('servedLocally'),
    servedRemotely: r.u32('servedRemotely'),
    servedForPeers: r.u32('servedForPeers')
  }
  const connections = r.u16('connections')
  const neighbourCount = r.u8('neighbour count')
  if (neighbourCount > MAX_NEIGHBOURS) throw new InvalidMessageError(`more than ${MAX_NEIGHBOURS} neighbours`)
  if (neighbourCount > connections) throw new InvalidMessageError('more neighbours than connections')
  const neighbours: string[] = []
  for (let i = 0; i < neighbourCount; i++) {
    const id = peerIdOf(r.bytesOf(r.u8('neighbour length'), MAX_PEER_ID_BYTES, 'neighbour'))
    if (neighbours.includes(id)) throw new InvalidMessageError('neighbour listed twice')
    neighbours.push(id)
  }
  return { traffic, connections, neighbours }
}
