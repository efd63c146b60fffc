/**
 * Updates as the one flat vector secure aggregation masks: the layers of a
 * delta (`../delta.ts`) concatenated in the global record's order, and back.
 * The masked vector travels as a weight record of one int32 tensor.
 */
import { InvalidUpdateError } from '../../../errors.js'
import type { WeightRecord } from '../../../model/types.js'

/** Name of the one tensor of a masked-vector weight record. */
export const MASKED_TENSOR = 'secagg/masked'

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

/** A masked vector as a weight record (u32 words carried as int32, same bits). */
export function maskedRecord (vector: Uint32Array): WeightRecord {
  return [{ name: MASKED_TENSOR, shape: [vector.length], dtype: 'int32', data: new Int32Array(vector.buffer, vector.byteOffset, vector.length) }]
}

/** The masked vector of a record; InvalidUpdateError unless it is one int32 tensor of `length` values. */
export function maskedVector (record: WeightRecord | undefined, length: number): Uint32Array {
  const t = record?.[0]
  if (record?.length !== 1 || t === undefined || t.name !== MASKED_TENSOR || t.dtype !== 'int32' || t.shape.length !== 1 || t.data.length !== length) {
    throw new InvalidUpdateError(`a masked input must be one int32 tensor "${MASKED_TENSOR}" of ${length} values`)
  }
  return new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length)
}
