/**
 * Updates as the one flat vector secure aggregation masks: the layers of a
 * delta (`../delta.ts`) concatenated in the global record's order, and back.
 * The masked vector travels as a weight record of one int32 tensor: its
 * u32 words, or with int8 in the ring (`ring.ts`) its b-bit values packed
 * into u32 words.
 */
import { InvalidUpdateError } from '../../../errors.js'
import { packBits, packedWords, unpackBits } from './ring.js'
import type { WeightRecord } from '../../../model/types.js'

/** Name of the one tensor of a masked-vector weight record. */
export const MASKED_TENSOR = 'secagg/masked'

/** Name of the one tensor of a packed masked vector (values of fewer than 32 bits). */
export const PACKED_MASKED_TENSOR = 'secagg/masked-packed'

/** The layers concatenated. */
export function flatten (layers: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(layers.reduce((n, l) => n + l.length, 0))
  let at = 0
  for (const l of layers) { out.set(l, at); at += l.length }
  return out
}

/** `flat` cut into layers of `lengths` (views, no copy). */
export function unflatten (flat: Float32Array, lengths: readonly number[]): Float32Array[] {
  let at = 0
  return lengths.map((n) => { const l = flat.subarray(at, at + n); at += n; return l })
}

/** Values of a record (the vector length of its updates). */
export function recordLength (record: WeightRecord): number {
  return record.reduce((n, t) => n + t.data.length, 0)
}

/** A masked vector of `bits`-bit values as a weight record (u32 words carried as int32, same bits; packed when bits < 32). */
export function maskedRecord (vector: Uint32Array, bits = 32): WeightRecord {
  const words = packBits(vector, bits)
  return [{ name: bits === 32 ? MASKED_TENSOR : PACKED_MASKED_TENSOR, shape: [words.length], dtype: 'int32', data: new Int32Array(words.buffer, words.byteOffset, words.length) }]
}

/** The masked vector of a record; InvalidUpdateError unless it is one int32 tensor holding `length` values of `bits` bits. */
export function maskedVector (record: WeightRecord | undefined, length: number, bits = 32): Uint32Array {
  const t = record?.[0]
  const name = bits === 32 ? MASKED_TENSOR : PACKED_MASKED_TENSOR
  const words = packedWords(length, bits)
  if (record?.length !== 1 || t === undefined || t.name !== name || t.dtype !== 'int32' || t.shape.length !== 1 || t.data.length !== words) {
    throw new InvalidUpdateError(`a masked input must be one int32 tensor "${name}" of ${words} words (${length} values of ${bits} bits)`)
  }
  return unpackBits(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length), bits, length)
}
