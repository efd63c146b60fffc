/**
 * Binary codec of weight records, used on the wire (`/edge-mesh/fedavg/1.0.0`)
 * and by checkpoints. The byte layout is documented in docs/protocols.md
 * under "Weight records":
 *
 * ```
 * record  = magic "EMWR" | version u8 (1) | flags u8 (0) | reserved u16 (0) | count u32 | tensor*count
 * tensor  = nameLen u16 | name utf-8 | dtype u8 (1 float32, 2 int32) | rank u8 | dim u32 * rank | data
 * data    = product(dims) little-endian 4-byte values
 * ```
 * All integers are little-endian. Nothing may follow the last tensor.
 *
 * The encoder yields chunks (headers, then views of the tensor data in
 * `chunkBytes` pieces) so a writer can stream them with backpressure. The
 * decoder (`codec-decoder.ts`) enforces limits before it buffers or allocates.
 */
import { InvalidTensorError } from '../../errors.js'
import { DEFAULT_CODEC_CHUNK_BYTES, DEFAULT_CODEC_MAX_NAME_BYTES } from '../constants.js'
import {
  BYTES_PER_ELEMENT, DTYPE_CODES, HOST_IS_LITTLE_ENDIAN, RECORD_HEADER_BYTES, WEIGHTS_MAGIC, WEIGHTS_VERSION
} from './codec-layout.js'
import type { NamedTensor, WeightRecord } from '../../model/types.js'

export { BYTES_PER_ELEMENT, DTYPE_CODES, HOST_IS_LITTLE_ENDIAN, RECORD_HEADER_BYTES, WEIGHTS_MAGIC, WEIGHTS_VERSION }

const encoder = new TextEncoder()

export interface EncodeOptions {
  /** Largest data chunk yielded. @default 64 KiB */
  chunkBytes?: number
}

function checkTensor (t: NamedTensor, nameBytes: Uint8Array): void {
  if (nameBytes.length === 0 || nameBytes.length > DEFAULT_CODEC_MAX_NAME_BYTES) {
    throw new InvalidTensorError(`tensor name "${t.name}" must be 1..${DEFAULT_CODEC_MAX_NAME_BYTES} UTF-8 bytes`)
  }
  if (DTYPE_CODES[t.dtype] === undefined) throw new InvalidTensorError(`tensor "${t.name}" has unsupported dtype ${String(t.dtype)}`)
  if (t.shape.length > 255) throw new InvalidTensorError(`tensor "${t.name}" has rank ${t.shape.length} > 255`)
  let p = 1
  for (const d of t.shape) {
    if (!Number.isInteger(d) || d < 0 || d > 0xFFFFFFFF) throw new InvalidTensorError(`tensor "${t.name}" has invalid dimension ${d}`)
    p *= d
  }
  if (p !== t.data.length) throw new InvalidTensorError(`tensor "${t.name}" holds ${t.data.length} values, shape [${t.shape.join(',')}] needs ${p}`)
  const expected = t.dtype === 'float32' ? Float32Array : Int32Array
  if (!(t.data instanceof expected)) throw new InvalidTensorError(`tensor "${t.name}" data does not match dtype ${t.dtype}`)
}

function recordHeader (count: number): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_BYTES)
  out.set(WEIGHTS_MAGIC, 0)
  out[4] = WEIGHTS_VERSION
  new DataView(out.buffer).setUint32(8, count, true)
  return out
}

function tensorHeader (t: NamedTensor, name: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + name.length + 2 + 4 * t.shape.length)
  const view = new DataView(out.buffer)
  view.setUint16(0, name.length, true)
  out.set(name, 2)
  let o = 2 + name.length
  out[o++] = DTYPE_CODES[t.dtype]
  out[o++] = t.shape.length
  for (const d of t.shape) {
    view.setUint32(o, d, true)
    o += 4
  }
  return out
}

function * dataChunks (data: Float32Array | Int32Array, chunkBytes: number): Generator<Uint8Array> {
  const total = data.byteLength
  for (let off = 0; off < total; off += chunkBytes) {
    const len = Math.min(chunkBytes, total - off)
    if (HOST_IS_LITTLE_ENDIAN) {
      yield new Uint8Array(data.buffer, data.byteOffset + off, len)
    } else {
      const out = new Uint8Array(len)
      const view = new DataView(out.buffer)
      const float = data instanceof Float32Array
      for (let i = 0; i < len; i += 4) {
        const v = data[(off + i) / 4]
        if (float) view.setFloat32(i, v, true)
        else view.setInt32(i, v, true)
      }
      yield out
    }
  }
}

/**
 * Encode a weight record as a sequence of chunks. Data chunks are views of the
 * record's arrays on little-endian hosts: do not modify the record while the
 * chunks are in flight. Throws `InvalidTensorError` for a malformed record.
 */
export function * encodeWeightRecord (record: WeightRecord, options: EncodeOptions = {}): Generator<Uint8Array> {
  const chunkBytes = Math.max(4, Math.floor((options.chunkBytes ?? DEFAULT_CODEC_CHUNK_BYTES) / 4) * 4)
  const names = record.map((t) => encoder.encode(t.name))
  record.forEach((t, i) => { checkTensor(t, names[i]) })
  yield recordHeader(record.length)
  for (let i = 0; i < record.length; i++) {
    yield tensorHeader(record[i], names[i])
    yield * dataChunks(record[i].data, chunkBytes)
  }
}

/** The exact encoded size of a record in bytes, without encoding it. */
export function encodedWeightRecordSize (record: WeightRecord): number {
  let size = RECORD_HEADER_BYTES
  for (const t of record) {
    size += 2 + encoder.encode(t.name).length + 2 + 4 * t.shape.length + t.data.length * BYTES_PER_ELEMENT
  }
  return size
}

/** Encode a record into one contiguous buffer (checkpoints, tests). */
export function encodeWeightRecordToBytes (record: WeightRecord): Uint8Array {
  const out = new Uint8Array(encodedWeightRecordSize(record))
  let o = 0
  for (const chunk of encodeWeightRecord(record)) {
    out.set(chunk, o)
    o += chunk.length
  }
  return out
}

export { WeightRecordDecoder, decodeWeightRecord, decodeWeightRecordStream } from './codec-decoder.js'
export type { DecodeLimits } from './codec-decoder.js'
