import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createModelRuntime, extractFeatures, fitExamples, inputBatch, loadMnist, sliceDataset } from '../../../src/model/index.js'
import type { Dataset, TfModelRuntime } from '../../../src/model/index.js'

function grey (side: number, values: number[]): Dataset {
  return { x: Float32Array.from(values), y: new Int32Array([0]), featureShape: [side * side], numClasses: 2, count: 1 }
}

describe('fitting examples to a base input', () => {
  it('reshapes an example of the right size as it is', () => {
    const out = new Float32Array(6)
    fitExamples({ x: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), featureShape: [2, 2] }, [-1, 4])(1, out, 2)
    expect([...out]).toEqual([0, 0, 5, 6, 7, 8])
  })

  it('upscales a square grey example by nearest neighbour and repeats it into RGB', () => {
    const batch = inputBatch(grey(2, [0.1, 0.2, 0.3, 0.4]), { inputShapes: [[-1, 4, 4, 3]] }, 0, 1)
    expect(batch.shape).toEqual([1, 4, 4, 3])
    const pixel = (y: number, x: number): number[] => [...batch.data.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3)].map((v) => Math.round(v * 10) / 10)
    expect(pixel(0, 0)).toEqual([0.1, 0.1, 0.1])
    expect(pixel(1, 3)).toEqual([0.2, 0.2, 0.2])
    expect(pixel(3, 0)).toEqual([0.3, 0.3, 0.3])
    expect(pixel(2, 2)).toEqual([0.4, 0.4, 0.4])
  })

  it('pads a fixed batch with zero rows and refuses shapes it cannot fit', () => {
    const batch = inputBatch(grey(2, [1, 1, 1, 1]), { inputShapes: [[2, 4]] }, 0, 1, 2)
    expect([...batch.data]).toEqual([1, 1, 1, 1, 0, 0, 0, 0])
    expect(() => fitExamples({ x: new Float32Array(5), featureShape: [5] }, [-1, 8, 8, 3])).toThrow(expect.objectContaining({ name: 'InvalidTensorError' }))
    expect(() => fitExamples({ x: new Float32Array(8), featureShape: [2, 2, 2] }, [-1, 4, 4, 3])).toThrow(expect.objectContaining({ name: 'InvalidTensorError' }))
  })
})

describe('a packaged frozen base and its features', () => {
  let runtime: TfModelRuntime
  beforeAll(async () => { runtime = await createModelRuntime() })
  afterAll(() => { runtime.unloadAll() })

  it('cuts edge-mesh:mnist-mlp at its feature layer and computes the features of at most the examples asked', async () => {
    const base = await runtime.createFeatureBase('edge-mesh:mnist-mlp')
    expect(base).toMatchObject({ name: 'edge-mesh:mnist-mlp:dense_2', inputShapes: [[-1, 784]], outputShapes: [[-1, 200]], origin: 'created' })
    expect((await runtime.createFeatureBase('edge-mesh:mnist-mlp', 'dense_2')).id).toBe(base.id)
    const digits = sliceDataset(loadMnist(), 0, 20)
    const features = await extractFeatures(runtime, base.id, digits, { examples: 11, batchSize: 4 })
    expect(features).toMatchObject({ featureShape: [200], count: 11, numClasses: 10 })
    expect([...features.y]).toEqual([...digits.y.slice(0, 11)])
    const [one] = await runtime.predict(base.id, [{ shape: [1, 784], dtype: 'float32', data: digits.x.slice(10 * 784, 11 * 784) }])
    expect(Math.max(...one.data.map((v, j) => Math.abs(v - features.x[10 * 200 + j])))).toBeLessThanOrEqual(1e-5)
    const aborted = extractFeatures(runtime, base.id, digits, { signal: AbortSignal.abort() })
    await expect(aborted).rejects.toBeDefined()
  })

  it('refuses bases that cannot be cut: graph models, unknown names and layers', async () => {
    await expect(runtime.createFeatureBase('human:blazeface')).rejects.toMatchObject({ name: 'ModelNotTrainableError' })
    await expect(runtime.createFeatureBase('human:blazeface', 'x')).rejects.toMatchObject({ name: 'ModelNotTrainableError' })
    await expect(runtime.createFeatureBase('nope:model')).rejects.toMatchObject({ name: 'ModelNotFoundError' })
    await expect(runtime.createFeatureBase('edge-mesh:mnist-mlp', 'no_such_layer')).rejects.toMatchObject({ name: 'InvalidModelError' })
  })
})
