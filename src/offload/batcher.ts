/**
 * The tensor side of dynamic micro-batching, as pure functions over neutral
 * TensorData: validate one request against the model's input shapes, merge
 * several requests along axis 0, and split the batch's outputs back by rows.
 * Requests are validated one by one before they are merged, so one malformed
 * request is refused alone and never poisons a batch.
 */
import { InvalidTensorError } from '../errors.js'
import { checkTensor } from './tensor-wire.js'
import type { ModelInfo, TensorData } from '../model/types.js'

/**
 * Check inputs against a model's input shapes (`-1` matches any size) and
 * return the number of rows (the shared leading dimension).
 * Throws InvalidTensorError naming the input.
 */
export function validateInputs (info: Pick<ModelInfo, 'id' | 'inputShapes'>, inputs: TensorData[]): number {
  if (inputs.length !== info.inputShapes.length) {
    throw new InvalidTensorError(`model ${info.id} takes ${info.inputShapes.length} inputs, got ${inputs.length}`)
  }
  let rows = -1
  inputs.forEach((input, i) => {
    const what = `input ${i} of model ${info.id}`
    checkTensor(input, what)
    const expected = info.inputShapes[i]
    const shape = input.shape
    const matches = shape.length === expected.length && shape.every((dim, d) => expected[d] === -1 || expected[d] === dim)
    if (!matches || shape.length === 0) {
      throw new InvalidTensorError(`${what}: shape [${shape.join(', ')}] does not fit [${expected.join(', ')}]`)
    }
    if (shape[0] < 1) throw new InvalidTensorError(`${what}: empty batch`)
    if (rows !== -1 && shape[0] !== rows) throw new InvalidTensorError(`${what}: batch size ${shape[0]} differs from input 0's ${rows}`)
    rows = shape[0]
  })
  return rows
}

/**
 * The batching key of a request: requests merge only when they run the same
 * model with the same dtypes and per-example shapes.
 */
export function batchKey (modelId: string, inputs: TensorData[]): string {
  return `${modelId}\u0000${inputs.map(t => `${t.dtype}:${t.shape.slice(1).join('x')}`).join('|')}`
}

/** Concatenate requests (each a list of inputs with the same key) along axis 0. */
export function concatInputs (requests: TensorData[][]): TensorData[] {
  return requests[0].map((first, k) => {
    const parts = requests.map(inputs => inputs[k])
    const rows = parts.reduce((n, t) => n + t.shape[0], 0)
    const length = parts.reduce((n, t) => n + t.data.length, 0)
    const data = first.dtype === 'float32' ? new Float32Array(length) : new Int32Array(length)
    let offset = 0
    for (const part of parts) {
      data.set(part.data, offset)
      offset += part.data.length
    }
    return { dtype: first.dtype, shape: [rows, ...first.shape.slice(1)], data }
  })
}

/**
 * Split a batch's outputs into one list per request, by each request's row
 * count. The parts are views on the batch's arrays (no copy). Throws
 * InvalidTensorError when an output's leading dimension is not the batch's rows.
 */
export function splitOutputs (outputs: TensorData[], rowsPerRequest: number[]): TensorData[][] {
  const totalRows = rowsPerRequest.reduce((n, r) => n + r, 0)
  for (const output of outputs) {
    if (output.shape[0] !== totalRows || output.data.length % totalRows !== 0) {
      throw new InvalidTensorError(`output shape [${output.shape.join(', ')}] does not have ${totalRows} rows`)
    }
  }
  let row = 0
  return rowsPerRequest.map(rows => {
    const start = row
    row += rows
    return outputs.map(output => {
      const perRow = output.data.length / totalRows
      return {
        dtype: output.dtype,
        shape: [rows, ...output.shape.slice(1)],
        data: output.data.subarray(start * perRow, (start + rows) * perRow)
      }
    })
  })
}

/** Rows `start` to `end` of every input, as views (no copy). */
export function sliceRows (inputs: TensorData[], start: number, end: number): TensorData[] {
  return inputs.map(t => {
    const perRow = t.shape[0] === 0 ? 0 : t.data.length / t.shape[0]
    return { dtype: t.dtype, shape: [end - start, ...t.shape.slice(1)], data: t.data.subarray(start * perRow, end * perRow) }
  })
}
