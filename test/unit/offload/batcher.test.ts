import { describe, expect, it } from 'vitest'
import { batchKey, concatInputs, splitOutputs, validateInputs } from '../../../src/offload/batcher.js'
import { selectBatch } from '../../../src/offload/queue.js'
import { modelInfo, tensor } from './protocol-fixtures.js'

const policy = { batching: true, maxBatchSize: 4, maxBatchDelayMs: 2 }
const q = (key: string, rows: number, enqueuedAt: number): { key: string, rows: number, enqueuedAt: number } => ({ key, rows, enqueuedAt })

describe('validateInputs', () => {
  const info = modelInfo('m', [[-1, 2]])

  it('returns the rows of a fitting request', () => {
    expect(validateInputs(info, [tensor([[1, 2], [3, 4], [5, 6]])])).toBe(3)
  })

  it('refuses wrong counts, ranks, sizes and empty batches by name', () => {
    const bad = [
      [],
      [tensor([[1, 2, 3]])],
      [{ dtype: 'float32' as const, shape: [2], data: new Float32Array(2) }],
      [{ dtype: 'float32' as const, shape: [0, 2], data: new Float32Array(0) }],
      [{ dtype: 'float32' as const, shape: [1, 2], data: new Float32Array(3) }]
    ]
    for (const inputs of bad) expect(() => validateInputs(info, inputs)).toThrow(expect.objectContaining({ name: 'InvalidTensorError' }))
  })
})

describe('concatInputs / splitOutputs', () => {
  it('merge along axis 0 and split back by rows', () => {
    const a = [tensor([[1, 2]])]
    const b = [tensor([[3, 4], [5, 6]])]
    const merged = concatInputs([a, b])
    expect(merged[0].shape).toEqual([3, 2])
    expect(Array.from(merged[0].data)).toEqual([1, 2, 3, 4, 5, 6])
    const [pa, pb] = splitOutputs(merged, [1, 2])
    expect(pa[0].shape).toEqual([1, 2])
    expect(Array.from(pb[0].data)).toEqual([3, 4, 5, 6])
  })

  it('refuses outputs whose leading dimension is not the batch rows', () => {
    expect(() => splitOutputs([tensor([[1, 2]])], [1, 1])).toThrow(expect.objectContaining({ name: 'InvalidTensorError' }))
  })

  it('keys requests by model and per-example shape', () => {
    expect(batchKey('m', [tensor([[1, 2]])])).toBe(batchKey('m', [tensor([[1, 2], [3, 4]])]))
    expect(batchKey('m', [tensor([[1, 2]])])).not.toBe(batchKey('m', [tensor([[1, 2, 3]])]))
    expect(batchKey('m', [tensor([[1, 2]])])).not.toBe(batchKey('n', [tensor([[1, 2]])]))
  })
})

describe('selectBatch', () => {
  it('waits for company until the delay, then runs what it has', () => {
    expect(selectBatch([q('a', 1, 0)], 1, policy)).toEqual({ waitMs: 1 })
    expect(selectBatch([q('a', 1, 0)], 2, policy)).toMatchObject({ batch: [{ key: 'a' }] })
  })

  it('runs a full batch at once, oldest first, within the row bound', () => {
    const entries = [q('a', 1, 0), q('b', 1, 0), q('a', 2, 0), q('a', 2, 0), q('a', 1, 0)]
    const choice = selectBatch(entries, 0, policy)
    expect(choice).toEqual({ batch: [entries[0], entries[2], entries[4]] })
  })

  it('does not let a forming batch hold up another key that is ready', () => {
    const entries = [q('a', 1, 5), q('b', 1, 0)]
    expect(selectBatch(entries, 6, policy)).toEqual({ batch: [entries[1]] })
  })

  it('runs requests one by one when batching is off', () => {
    expect(selectBatch([q('a', 1, 0), q('a', 1, 0)], 0, { ...policy, batching: false })).toEqual({ batch: [q('a', 1, 0)] })
    expect(selectBatch([], 0, policy)).toBeUndefined()
  })

  it('lets the head request cap the rows of its batch below the policy bound', () => {
    const entries = [{ ...q('a', 1, 0), maxRows: 2 }, q('a', 1, 0), q('a', 1, 0)]
    expect(selectBatch(entries, 0, policy)).toEqual({ batch: [entries[0], entries[1]] })
    expect(selectBatch([{ ...q('a', 1, 0), maxRows: 1 }, q('a', 1, 0)], 0, policy)).toEqual({ batch: [{ ...q('a', 1, 0), maxRows: 1 }] })
  })

  it('never merges requests for a model with a fixed batch size, and runs them without waiting', () => {
    const entries = [{ ...q('a', 1, 0), alone: true }, { ...q('a', 1, 0), alone: true }]
    expect(selectBatch(entries, 0, policy)).toEqual({ batch: [entries[0]] })
    expect(selectBatch([q('a', 1, 0), entries[1]], 5, policy)).toEqual({ batch: [q('a', 1, 0)] })
  })
})
