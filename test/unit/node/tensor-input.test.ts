import { describe, expect, it } from 'vitest'
import { tensor, tensors } from '../../../src/node/tensor-input.js'

const nameOf = (fn: () => unknown): string | undefined => { try { fn() } catch (err: any) { return err.name } }

describe('tensors from application data', () => {
  it('reads the shape from nested arrays', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]])
    expect(t).toMatchObject({ shape: [2, 3], dtype: 'float32' })
    expect(t.data).toBeInstanceOf(Float32Array)
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6])
  })

  it('takes a typed array as one example and keeps its element type', () => {
    expect(tensor(Float32Array.of(1, 2))).toMatchObject({ shape: [1, 2], dtype: 'float32' })
    expect(tensor(Int32Array.of(1, 2, 3))).toMatchObject({ shape: [1, 3], dtype: 'int32' })
  })

  it('takes { shape, data } with plain or typed data, reusing a typed array of the right type', () => {
    const data = Float32Array.of(1, 2, 3, 4)
    expect(tensor({ shape: [2, 2], data }).data).toBe(data)
    expect(tensor({ shape: [1, 2], dtype: 'int32', data: [7, 8] })).toMatchObject({ shape: [1, 2], dtype: 'int32', data: Int32Array.of(7, 8) })
  })

  it('tells one nested-array tensor from a list of tensors', () => {
    expect(tensors([[0.1, 0.2]]).map(t => t.shape)).toEqual([[1, 2]])
    expect(tensors([Float32Array.of(1), { shape: [1, 2], data: [1, 2] }]).map(t => t.shape)).toEqual([[1, 1], [1, 2]])
    expect(tensors(Float32Array.of(1, 2, 3)).map(t => t.shape)).toEqual([[1, 3]])
  })

  it('refuses ragged arrays, non-finite values and data that does not fit the shape with InvalidTensorError', () => {
    expect(nameOf(() => tensor([[1, 2], [3]]))).toBe('InvalidTensorError')
    expect(nameOf(() => tensor([[1, Number.NaN]]))).toBe('InvalidTensorError')
    expect(nameOf(() => tensor({ shape: [2, 2], data: [1, 2, 3] }))).toBe('InvalidTensorError')
    expect(nameOf(() => tensor({ shape: [1], dtype: 'float64' as any, data: [1] }))).toBe('InvalidTensorError')
  })
})
