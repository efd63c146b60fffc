/**
 * Tensors from what application code has at hand: nested number arrays
 * (`[[...784 numbers]]`), typed arrays, or `{ shape, dtype?, data }` with
 * plain or typed data. Inside edge-mesh every tensor is a `TensorData` with a
 * typed array; this is the one place that converts.
 */
import { InvalidTensorError } from '../errors.js'
import type { DType, TensorData } from '../model/types.js'

/** Numbers nested to any depth, rectangular: `[[1, 2], [3, 4]]` has shape `[2, 2]`. */
export type NestedNumbers = number[] | NestedNumbers[]

/** Anything `tensor()` turns into a `TensorData`. */
export type TensorInput =
  | NestedNumbers
  | Float32Array
  | Int32Array
  | { shape: number[], dtype?: DType, data: ArrayLike<number> }

const MAX_RANK = 8

function shapeOf (value: NestedNumbers, where: string): number[] {
  const shape: number[] = []
  let level: unknown = value
  while (Array.isArray(level)) {
    shape.push(level.length)
    if (shape.length > MAX_RANK) throw new InvalidTensorError(`${where}: more than ${MAX_RANK} dimensions`)
    level = level[0]
  }
  return shape
}

function flatten (value: NestedNumbers, shape: number[], depth: number, out: number[], where: string): void {
  if (!Array.isArray(value) || value.length !== shape[depth]) {
    throw new InvalidTensorError(`${where}: ragged array (expected ${shape[depth]} entries at depth ${depth})`)
  }
  if (depth === shape.length - 1) {
    for (const v of value) {
      if (typeof v !== 'number') throw new InvalidTensorError(`${where}: expected numbers at depth ${depth}`)
      out.push(v)
    }
    return
  }
  for (const v of value) flatten(v as NestedNumbers, shape, depth + 1, out, where)
}

function typed (values: ArrayLike<number>, dtype: DType, where: string): Float32Array | Int32Array {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new InvalidTensorError(`${where}: value ${i} is not a finite number`)
  }
  return dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values)
}

/**
 * Build a `TensorData`.
 *
 * - nested arrays: the shape is read from the nesting, so one MNIST digit is
 *   `tensor([[...784 numbers]])` (shape `[1, 784]`);
 * - a typed array: one example, shape `[1, length]`;
 * - `{ shape, dtype?, data }`: `data` may be a plain or typed array.
 *
 * @param dtype - element type for nested arrays and typed arrays. @default 'float32' (Int32Array: 'int32')
 * @throws InvalidTensorError on ragged arrays, non-finite values or a data length that does not fit the shape
 */
export function tensor (input: TensorInput, dtype?: DType, where = 'tensor'): TensorData {
  if (input instanceof Float32Array || input instanceof Int32Array) {
    const type = dtype ?? (input instanceof Int32Array ? 'int32' : 'float32')
    return { shape: [1, input.length], dtype: type, data: typed(input, type, where) }
  }
  if (Array.isArray(input)) {
    const shape = shapeOf(input, where)
    const values: number[] = []
    flatten(input, shape, 0, values, where)
    const type = dtype ?? 'float32'
    return { shape, dtype: type, data: typed(values, type, where) }
  }
  if (input == null || typeof input !== 'object' || !Array.isArray(input.shape)) {
    throw new InvalidTensorError(`${where}: expected nested number arrays, a typed array or { shape, data }`)
  }
  const type = input.dtype ?? dtype ?? (input.data instanceof Int32Array ? 'int32' : 'float32')
  if (type !== 'float32' && type !== 'int32') throw new InvalidTensorError(`${where}: dtype must be float32 or int32`)
  const size = input.shape.reduce((a, b) => a * b, 1)
  if (input.data.length !== size) {
    throw new InvalidTensorError(`${where}: ${input.data.length} values do not fit shape [${input.shape.join(', ')}] (${size})`)
  }
  const reuse = (type === 'float32' && input.data instanceof Float32Array) || (type === 'int32' && input.data instanceof Int32Array)
  return { shape: [...input.shape], dtype: type, data: reuse ? input.data as Float32Array | Int32Array : typed(input.data, type, where) }
}

/** True when `value` is one tensor written as nested numbers (as opposed to a list of tensors). */
function isNested (value: unknown[]): boolean {
  return value.length === 0 || typeof value[0] === 'number' || Array.isArray(value[0])
}

/**
 * The inputs of one inference request: a single tensor (nested numbers, a
 * typed array, `{ shape, data }`) or a list of them for multi-input models.
 */
export function tensors (inputs: TensorInput | TensorInput[]): TensorData[] {
  if (Array.isArray(inputs) && !isNested(inputs)) {
    return (inputs as TensorInput[]).map((t, i) => tensor(t, undefined, `inputs[${i}]`))
  }
  return [tensor(inputs as TensorInput, undefined, 'inputs[0]')]
}
