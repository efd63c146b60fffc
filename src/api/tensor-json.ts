/**
 * Tensors in the control API's JSON: `{ "shape": [1, 784], "dtype": "float32", "data": [...] }`.
 * (JSON is for people and scripts; between peers tensors travel as raw bytes.)
 */
import { InvalidTensorError } from '../errors.js'
import type { TensorData } from '../model/types.js'

export interface TensorJson {
  shape: number[]
  dtype: 'float32' | 'int32'
  data: number[]
}

const MAX_RANK = 8

/** Parse one tensor; every problem is an InvalidTensorError naming the input. */
export function tensorFromJson (value: any, index: number): TensorData {
  const where = `inputs[${index}]`
  if (value == null || typeof value !== 'object') throw new InvalidTensorError(`${where} must be an object with shape, dtype and data`)
  const { shape, data } = value
  const dtype = value.dtype ?? 'float32'
  if (dtype !== 'float32' && dtype !== 'int32') throw new InvalidTensorError(`${where}.dtype must be "float32" or "int32", got ${JSON.stringify(dtype)}`)
  if (!Array.isArray(shape) || shape.length === 0 || shape.length > MAX_RANK || shape.some((d: unknown) => !Number.isInteger(d) || (d as number) < 0)) {
    throw new InvalidTensorError(`${where}.shape must be a list of 1 to ${MAX_RANK} whole numbers`)
  }
  if (!Array.isArray(data)) throw new InvalidTensorError(`${where}.data must be a flat list of numbers`)
  const size = shape.reduce((a: number, b: number) => a * b, 1)
  if (data.length !== size) throw new InvalidTensorError(`${where}.data has ${data.length} values but shape [${shape.join(', ')}] needs ${size}`)
  const typed = dtype === 'int32' ? new Int32Array(size) : new Float32Array(size)
  for (let i = 0; i < size; i++) {
    const v = data[i]
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidTensorError(`${where}.data[${i}] is not a finite number`)
    typed[i] = v
  }
  return { shape: [...shape], dtype, data: typed }
}

export function tensorToJson (tensor: TensorData): TensorJson {
  return { shape: tensor.shape, dtype: tensor.dtype, data: Array.from(tensor.data) }
}
