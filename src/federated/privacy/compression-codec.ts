/**
 * The byte layout of a compressed update (docs/protocols.md, "Compressed
 * updates"). Little-endian like the weight record codec; layers follow the
 * global model's order, so no names or shapes travel:
 *
 * ```
 * update = magic "EMCU" | version u8 (1) | scheme u8 (1 int8, 2 topk) | reserved u16 (0) | layers u32 | layer*layers
 * int8   = length u32 | scale f32 | length x i8
 * topk   = length u32 | k u32 | k x index u32 (strictly increasing, < length) | k x value f32
 * ```
 */
import { InvalidUpdateError } from '../../errors.js'
import type { QuantizedLayer, SparseLayer } from './compression.js'

export const COMPRESSED_MAGIC = Uint8Array.from([0x45, 0x4D, 0x43, 0x55]) // "EMCU"
export const COMPRESSED_VERSION = 1
export const SCHEME_CODES = { int8: 1, topk: 2 } as const
const HEADER_BYTES = 12

export type EncodedLayers = { scheme: 'int8', layers: QuantizedLayer[] } | { scheme: 'topk', layers: SparseLayer[] }

function layerBytes (e: EncodedLayers): number {
  if (e.scheme === 'int8') return e.layers.reduce((n, l) => n + 8 + l.values.length, 0)
  return e.layers.reduce((n, l) => n + 8 + 8 * l.indices.length, 0)
}

/** Encode quantized or sparse layers. */
export function encodeCompressed (e: EncodedLayers): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + layerBytes(e))
  const view = new DataView(out.buffer)
  out.set(COMPRESSED_MAGIC, 0)
  out[4] = COMPRESSED_VERSION
  out[5] = SCHEME_CODES[e.scheme]
  view.setUint32(8, e.layers.length, true)
  let at = HEADER_BYTES
  if (e.scheme === 'int8') {
    for (const l of e.layers) {
      view.setUint32(at, l.values.length, true)
      view.setFloat32(at + 4, l.scale, true)
      out.set(new Uint8Array(l.values.buffer, l.values.byteOffset, l.values.length), at + 8)
      at += 8 + l.values.length
    }
    return out
  }
  for (const l of e.layers) {
    const k = l.indices.length
    view.setUint32(at, l.length, true)
    view.setUint32(at + 4, k, true)
    for (let j = 0; j < k; j++) view.setUint32(at + 8 + 4 * j, l.indices[j], true)
    for (let j = 0; j < k; j++) view.setFloat32(at + 8 + 4 * k + 4 * j, l.values[j], true)
    at += 8 + 8 * k
  }
  return out
}

function need (bytes: Uint8Array, at: number, n: number): void {
  if (at + n > bytes.length) throw new InvalidUpdateError(`compressed update truncated at byte ${at}`)
}

function decodeInt8 (bytes: Uint8Array, view: DataView, at: number, length: number): { layer: Float32Array, at: number } {
  need(bytes, at, 4 + length)
  const scale = view.getFloat32(at, true)
  if (!(Number.isFinite(scale) && scale >= 0)) throw new InvalidUpdateError(`invalid int8 scale ${scale}`)
  const q = new Int8Array(bytes.buffer, bytes.byteOffset + at + 4, length)
  const k = scale / 127
  return { layer: Float32Array.from(q, (v) => v * k), at: at + 4 + length }
}

function decodeTopK (bytes: Uint8Array, view: DataView, at: number, length: number): { layer: Float32Array, at: number } {
  need(bytes, at, 4)
  const k = view.getUint32(at, true)
  if (k > length) throw new InvalidUpdateError(`top-k layer keeps ${k} of ${length} values`)
  need(bytes, at + 4, 8 * k)
  const layer = new Float32Array(length)
  let prev = -1
  for (let j = 0; j < k; j++) {
    const i = view.getUint32(at + 4 + 4 * j, true)
    const v = view.getFloat32(at + 4 + 4 * k + 4 * j, true)
    if (i <= prev || i >= length) throw new InvalidUpdateError(`top-k index ${i} out of order or range`)
    if (!Number.isFinite(v)) throw new InvalidUpdateError('top-k value is not finite')
    layer[i] = v
    prev = i
  }
  return { layer, at: at + 4 + 8 * k }
}

/** Decode a compressed update against the global model's layer lengths; throws InvalidUpdateError. */
export function decodeCompressed (bytes: Uint8Array, lengths: readonly number[]): Float32Array[] {
  need(bytes, 0, HEADER_BYTES)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (!COMPRESSED_MAGIC.every((b, i) => bytes[i] === b)) throw new InvalidUpdateError('not a compressed update (bad magic)')
  if (bytes[4] !== COMPRESSED_VERSION) throw new InvalidUpdateError(`unsupported compressed update version ${bytes[4]}`)
  const scheme = bytes[5]
  if (scheme !== SCHEME_CODES.int8 && scheme !== SCHEME_CODES.topk) throw new InvalidUpdateError(`unknown compression scheme ${scheme}`)
  if (view.getUint16(6, true) !== 0) throw new InvalidUpdateError('reserved bytes must be 0')
  const count = view.getUint32(8, true)
  if (count !== lengths.length) throw new InvalidUpdateError(`compressed update has ${count} layers, the model ${lengths.length}`)
  const out: Float32Array[] = []
  let at = HEADER_BYTES
  for (let l = 0; l < count; l++) {
    need(bytes, at, 4)
    const length = view.getUint32(at, true)
    if (length !== lengths[l]) throw new InvalidUpdateError(`layer ${l} has ${length} values, the model ${lengths[l]}`)
    const next = scheme === SCHEME_CODES.int8 ? decodeInt8(bytes, view, at + 4, length) : decodeTopK(bytes, view, at + 4, length)
    out.push(next.layer)
    at = next.at
  }
  if (at !== bytes.length) throw new InvalidUpdateError(`${bytes.length - at} trailing bytes after a compressed update`)
  return out
}
