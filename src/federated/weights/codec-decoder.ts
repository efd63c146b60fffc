/**
 * Incremental decoder of the weight-record layout described in `codec.ts`
 * and docs/protocols.md. It checks every declared size against its limits
 * before waiting for or allocating the bytes, buffers only what has actually
 * arrived, and allocates each tensor exactly once when all its bytes are in.
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { InvalidMessageError, MessageTooLargeError } from '../../errors.js'
import {
  DEFAULT_CODEC_MAX_BYTES, DEFAULT_CODEC_MAX_NAME_BYTES, DEFAULT_CODEC_MAX_RANK, DEFAULT_CODEC_MAX_TENSORS
} from '../constants.js'
import { BYTES_PER_ELEMENT, DTYPE_CODES, HOST_IS_LITTLE_ENDIAN, RECORD_HEADER_BYTES, WEIGHTS_MAGIC, WEIGHTS_VERSION } from './codec-layout.js'
import type { AbortOptions } from '@libp2p/interface'
import type { DType, NamedTensor, WeightRecord } from '../../model/types.js'

/** What the decoder accepts. */
export interface DecodeLimits {
  /** Most tensors a record may declare. @default 1024 */
  maxTensors?: number
  /** Most bytes a whole encoded record may take. @default 64 MiB */
  maxBytes?: number
  /** Highest tensor rank. @default 8 */
  maxRank?: number
}

interface PendingTensor {
  name: string
  dtype: DType
  shape: number[]
  dataBytes: number
}

const DTYPES_BY_CODE = new Map<number, DType>(Object.entries(DTYPE_CODES).map(([k, v]) => [v, k as DType]))
const nameDecoder = new TextDecoder('utf-8', { fatal: true })

/** Push chunks as they arrive, then call `finish()` for the record. */
export class WeightRecordDecoder {
  private readonly buf = new Uint8ArrayList()
  private readonly maxTensors: number
  private readonly maxBytes: number
  private readonly maxRank: number
  private readonly tensors: NamedTensor[] = []
  private readonly names = new Set<string>()
  private count = -1
  private received = 0
  private declared = RECORD_HEADER_BYTES
  private pending?: PendingTensor

  constructor (limits: DecodeLimits = {}) {
    this.maxTensors = limits.maxTensors ?? DEFAULT_CODEC_MAX_TENSORS
    this.maxBytes = limits.maxBytes ?? DEFAULT_CODEC_MAX_BYTES
    this.maxRank = limits.maxRank ?? DEFAULT_CODEC_MAX_RANK
  }

  /** Add bytes and decode as far as they allow. */
  push (chunk: Uint8Array | Uint8ArrayList): void {
    this.received += chunk.byteLength
    if (this.received > this.maxBytes) throw new MessageTooLargeError(`weight record exceeds ${this.maxBytes} bytes`)
    if (chunk.byteLength === 0) return
    if (this.done()) throw new InvalidMessageError('bytes after the end of the weight record')
    this.buf.append(chunk)
    while (this.step()) { /* keep decoding */ }
  }

  /** The decoded record; throws `InvalidMessageError` when input is incomplete. */
  finish (): WeightRecord {
    if (!this.done()) throw new InvalidMessageError(`weight record truncated after ${this.received} bytes`)
    if (this.buf.byteLength > 0) throw new InvalidMessageError('bytes after the end of the weight record')
    return this.tensors
  }

  private done (): boolean {
    return this.count >= 0 && this.tensors.length === this.count && this.pending === undefined
  }

  /** Decode one item if its bytes are buffered; false when more input is needed. */
  private step (): boolean {
    if (this.count < 0) return this.readRecordHeader()
    if (this.pending !== undefined) return this.readData(this.pending)
    if (this.tensors.length < this.count) return this.readTensorHeader()
    if (this.buf.byteLength > 0) throw new InvalidMessageError('bytes after the end of the weight record')
    return false
  }

  private readRecordHeader (): boolean {
    if (this.buf.byteLength < RECORD_HEADER_BYTES) return false
    for (let i = 0; i < WEIGHTS_MAGIC.length; i++) {
      if (this.buf.get(i) !== WEIGHTS_MAGIC[i]) throw new InvalidMessageError('not a weight record: bad magic')
    }
    if (this.buf.get(4) !== WEIGHTS_VERSION) throw new InvalidMessageError(`unsupported weight record version ${this.buf.get(4)}`)
    if (this.buf.get(5) !== 0 || this.buf.getUint16(6, true) !== 0) throw new InvalidMessageError('reserved header bits are set')
    const count = this.buf.getUint32(8, true)
    if (count > this.maxTensors) throw new MessageTooLargeError(`weight record declares ${count} tensors, limit ${this.maxTensors}`)
    this.buf.consume(RECORD_HEADER_BYTES)
    this.count = count
    return true
  }

  private readTensorHeader (): boolean {
    const b = this.buf
    if (b.byteLength < 2) return false
    const nameLen = b.getUint16(0, true)
    if (nameLen === 0 || nameLen > DEFAULT_CODEC_MAX_NAME_BYTES) throw new InvalidMessageError(`tensor name length ${nameLen} out of range`)
    if (b.byteLength < 2 + nameLen + 2) return false
    const dtype = DTYPES_BY_CODE.get(b.get(2 + nameLen))
    if (dtype === undefined) throw new InvalidMessageError(`unknown dtype code ${b.get(2 + nameLen)}`)
    const rank = b.get(3 + nameLen)
    if (rank > this.maxRank) throw new InvalidMessageError(`tensor rank ${rank} exceeds ${this.maxRank}`)
    const headerBytes = 4 + nameLen + 4 * rank
    if (b.byteLength < headerBytes) return false
    let name: string
    try {
      name = nameDecoder.decode(b.subarray(2, 2 + nameLen))
    } catch {
      throw new InvalidMessageError('tensor name is not valid UTF-8')
    }
    if (this.names.has(name)) throw new InvalidMessageError(`tensor "${name}" appears twice`)
    const shape: number[] = []
    let elements = 1
    for (let i = 0; i < rank; i++) {
      const d = b.getUint32(4 + nameLen + 4 * i, true)
      shape.push(d)
      elements *= d
      if (elements * BYTES_PER_ELEMENT > this.maxBytes) throw new MessageTooLargeError(`tensor "${name}" is larger than ${this.maxBytes} bytes`)
    }
    const dataBytes = elements * BYTES_PER_ELEMENT
    this.declared += headerBytes + dataBytes
    if (this.declared > this.maxBytes) throw new MessageTooLargeError(`weight record declares more than ${this.maxBytes} bytes`)
    b.consume(headerBytes)
    this.names.add(name)
    this.pending = { name, dtype, shape, dataBytes }
    return true
  }

  private readData (p: PendingTensor): boolean {
    if (this.buf.byteLength < p.dataBytes) return false
    const elements = p.dataBytes / BYTES_PER_ELEMENT
    const data = p.dtype === 'float32' ? new Float32Array(elements) : new Int32Array(elements)
    if (HOST_IS_LITTLE_ENDIAN) {
      const bytes = new Uint8Array(data.buffer)
      let o = 0
      for (const chunk of this.buf.sublist(0, p.dataBytes)) {
        bytes.set(chunk, o)
        o += chunk.byteLength
      }
    } else {
      for (let i = 0; i < elements; i++) {
        data[i] = p.dtype === 'float32' ? this.buf.getFloat32(i * 4, true) : this.buf.getInt32(i * 4, true)
      }
    }
    this.buf.consume(p.dataBytes)
    this.tensors.push({ name: p.name, shape: p.shape, dtype: p.dtype, data })
    this.pending = undefined
    return true
  }
}

/** Decode a complete encoded record. Throws `InvalidMessageError` or `MessageTooLargeError`. */
export function decodeWeightRecord (bytes: Uint8Array | Uint8ArrayList, limits: DecodeLimits = {}): WeightRecord {
  const decoder = new WeightRecordDecoder(limits)
  decoder.push(bytes)
  return decoder.finish()
}

/** Decode a record from a stream of chunks (e.g. the frames of a libp2p stream). */
export async function decodeWeightRecordStream (source: AsyncIterable<Uint8Array | Uint8ArrayList> | Iterable<Uint8Array | Uint8ArrayList>, options: DecodeLimits & AbortOptions = {}): Promise<WeightRecord> {
  const decoder = new WeightRecordDecoder(options)
  for await (const chunk of source) {
    options.signal?.throwIfAborted()
    decoder.push(chunk)
  }
  return decoder.finish()
}
