/**
 * Conversions between edge-mesh's framework-neutral tensors (`TensorData`,
 * `WeightRecord`) and TF.js tensors or canonical weight bytes, with the
 * validation that names the offending input or weight.
 */
import * as tf from '@tensorflow/tfjs'
import { InvalidTensorError } from '../errors.js'
import { concatBytes, sizeOf } from './canonical.js'
import type { WeightSpec } from './canonical.js'
import type { DType, TensorData, WeightRecord } from './types.js'

/** What a model input expects: `-1` marks a free dimension (the batch). */
export interface InputSpec {
  shape: number[]
  dtype: DType
}

/** `[1, 2]` -> `"[1,2]"` for error messages. */
export function formatShape (shape: readonly number[]): string {
  return `[${shape.join(',')}]`
}

/** Check one input against its spec: dtype, rank, fixed dims and data length. */
export function checkInput (input: TensorData, spec: InputSpec, index: number): void {
  const where = `input ${index}`
  if (input == null || !Array.isArray(input.shape)) throw new InvalidTensorError(`${where} is not a tensor`)
  if (input.dtype !== spec.dtype) throw new InvalidTensorError(`${where} has dtype ${String(input.dtype)}, expected ${spec.dtype}`)
  checkTypedArray(input, where)
  const shapeOk = input.shape.length === spec.shape.length &&
    input.shape.every((d, i) => Number.isInteger(d) && d >= 1 && (spec.shape[i] === -1 || spec.shape[i] === d))
  if (!shapeOk) throw new InvalidTensorError(`${where} has shape ${formatShape(input.shape)}, expected ${formatShape(spec.shape)} (-1 = any size)`)
  checkLength(input, where)
}

/** Check that `data` is the typed array of `dtype`. */
function checkTypedArray (t: TensorData, where: string): void {
  const ok = t.dtype === 'float32' ? t.data instanceof Float32Array : t.data instanceof Int32Array
  if (!ok) throw new InvalidTensorError(`${where} is ${t.dtype} but its data is not a ${t.dtype === 'float32' ? 'Float32Array' : 'Int32Array'}`)
}

function checkLength (t: TensorData, where: string): void {
  const expected = sizeOf(t.shape)
  if (t.data.length !== expected) throw new InvalidTensorError(`${where} of shape ${formatShape(t.shape)} needs ${expected} values but has ${t.data.length}`)
}

/** A TF.js tensor over (a copy of) the data. */
export function toTensor (t: TensorData): tf.Tensor {
  return tf.tensor(t.data, t.shape, t.dtype)
}

/** Read a tensor into a new `TensorData` (the typed array is a copy owned by the caller). */
export async function fromTensor (t: tf.Tensor): Promise<TensorData> {
  const values = await t.data()
  const dtype: DType = t.dtype === 'int32' ? 'int32' : 'float32'
  const data = dtype === 'int32' ? Int32Array.from(values as Int32Array) : Float32Array.from(values as Float32Array)
  return { shape: [...t.shape], dtype, data }
}

/** Decode canonical weight bytes into a weight record in manifest order (new arrays). */
export function decodeWeights (specs: WeightSpec[], bytes: Uint8Array): WeightRecord {
  let offset = 0
  return specs.map((spec) => {
    const n = sizeOf(spec.shape)
    const slice = bytes.slice(offset, offset + n * 4)
    offset += n * 4
    const data = spec.dtype === 'int32' ? new Int32Array(slice.buffer) : new Float32Array(slice.buffer)
    return { name: spec.name, shape: [...spec.shape], dtype: spec.dtype, data }
  })
}

/**
 * Encode a weight record into canonical bytes in the order of `specs`. The
 * record may list weights in any order but must hold exactly the spec's names,
 * with matching shapes, dtypes and data lengths; the error names the weight.
 */
export function encodeWeights (specs: WeightSpec[], weights: WeightRecord): Uint8Array {
  if (!Array.isArray(weights)) throw new InvalidTensorError('weights must be a list of named tensors')
  const byName = new Map(weights.map((w) => [w?.name, w]))
  if (byName.size !== weights.length) throw new InvalidTensorError('weights hold a name twice')
  const unexpected = weights.find((w) => !specs.some((s) => s.name === w.name))
  if (unexpected != null) throw new InvalidTensorError(`weight "${String(unexpected.name)}" is not a weight of the model`)
  return concatBytes(specs.map((spec) => {
    const w = byName.get(spec.name)
    const where = `weight "${spec.name}"`
    if (w == null) throw new InvalidTensorError(`${where} is missing`)
    if (w.dtype !== spec.dtype) throw new InvalidTensorError(`${where} has dtype ${String(w.dtype)}, expected ${spec.dtype}`)
    checkTypedArray(w, where)
    if (!Array.isArray(w.shape) || formatShape(w.shape) !== formatShape(spec.shape)) {
      throw new InvalidTensorError(`${where} has shape ${formatShape(w.shape ?? [])}, expected ${formatShape(spec.shape)}`)
    }
    checkLength(w, where)
    return new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength)
  }))
}
