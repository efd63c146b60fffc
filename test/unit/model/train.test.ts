import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createModelRuntime, loadMnist, sliceDataset } from '../../../src/model/index.js'
import type { Dataset, TfModelRuntime, WeightRecord } from '../../../src/model/index.js'

const digits = loadMnist()
const trainSet = sliceDataset(digits, 0, 2000)
const testSet = sliceDataset(digits, 8000, 10000)
const MLP = { inputSize: 784, hidden: [64], classes: 10, seed: 3 }

function distance (a: WeightRecord, b: WeightRecord): number {
  let sum = 0
  a.forEach((w, i) => w.data.forEach((v, j) => { sum += (v - b[i].data[j]) ** 2 }))
  return Math.sqrt(sum)
}

describe('model runtime: training', () => {
  let runtime: TfModelRuntime
  let base: string
  let start: WeightRecord

  beforeAll(async () => {
    runtime = await createModelRuntime()
    base = (await runtime.createMlp(MLP)).id
    start = runtime.getWeights(base)
  })
  afterAll(() => { runtime.unloadAll() })

  it('learns 2,000 digits in 2 epochs well above chance, leaving the base model unchanged', async () => {
    const before = await runtime.evaluate(base, start, testSet)
    const batches: number[] = []
    const result = await runtime.train(base, start, trainSet, { epochs: 2, batchSize: 32, learningRate: 0.1, onBatch: (b) => batches.push(b) })
    expect(result.numExamples).toBe(2000)
    expect(batches.length).toBe(2 * Math.ceil(2000 / 32))
    expect(result.loss).toBeGreaterThan(0)
    expect(result.accuracy).toBeGreaterThan(0.8)
    expect(typeof result.trainMs).toBe('number')
    expect(result.weights.map((w) => w.name)).toEqual(start.map((w) => w.name))
    const after = await runtime.evaluate(base, result.weights, testSet)
    expect(before.accuracy).toBeLessThan(0.3)
    expect(after.accuracy).toBeGreaterThan(0.8)
    expect(after.loss).toBeLessThan(before.loss)
    expect(after.numExamples).toBe(2000)
    expect(runtime.getWeights(base)).toEqual(start)
  })

  it('is reproducible for the same seed and differs for another', async () => {
    const small = sliceDataset(digits, 0, 256)
    const a = await runtime.train(base, start, small, { seed: 5 })
    const b = await runtime.train(base, start, small, { seed: 5 })
    const c = await runtime.train(base, start, small, { seed: 6 })
    expect(b.weights).toEqual(a.weights)
    expect(distance(a.weights, c.weights)).toBeGreaterThan(0)
  })

  it('runs FedProx: the proximal term keeps weights closer to the start', async () => {
    const small = sliceDataset(digits, 0, 512)
    const plain = await runtime.train(base, start, small, { epochs: 2, learningRate: 0.1 })
    const prox = await runtime.train(base, start, small, { epochs: 2, learningRate: 0.1, proximalMu: 1 })
    expect(Number.isFinite(prox.loss)).toBe(true)
    expect(distance(prox.weights, start)).toBeLessThan(distance(plain.weights, start))
  })

  it('trains on the full batch when batchSize is 0', async () => {
    const batches: number[] = []
    const result = await runtime.train(base, start, sliceDataset(digits, 0, 300), { epochs: 3, batchSize: 0, onBatch: (b) => batches.push(b) })
    expect(batches).toEqual([0, 1, 2])
    expect(result.numExamples).toBe(300)
  })

  it('keeps the number of tensors stable across 20 train and evaluate calls', async () => {
    const small = sliceDataset(digits, 0, 64)
    await runtime.train(base, start, small, { batchSize: 16 })
    const before = tf.memory().numTensors
    for (let i = 0; i < 20; i++) {
      await runtime.train(base, start, small, { batchSize: 16, proximalMu: i % 2 === 0 ? 0 : 0.1, seed: i })
      await runtime.evaluate(base, start, small)
    }
    expect(tf.memory().numTensors).toBe(before)
  })

  it('throws AbortError when the signal fires, and cleans up', async () => {
    const before = tf.memory().numTensors
    const controller = new AbortController()
    const err = await runtime.train(base, start, trainSet, {
      signal: controller.signal,
      onBatch: (b) => { if (b === 3) controller.abort() }
    }).catch((e) => e)
    expect(err.name).toBe('AbortError')
    expect(tf.memory().numTensors).toBe(before)
    const aborted = AbortSignal.abort()
    expect((await runtime.evaluate(base, start, testSet, { signal: aborted }).catch((e) => e)).name).toBe('AbortError')
  })

  it('rejects data that does not fit the model and bad settings', async () => {
    const wrong: Dataset = { x: new Float32Array(10 * 5), y: new Int32Array(10), featureShape: [5], numClasses: 10, count: 10 }
    expect((await runtime.train(base, start, wrong).catch((e) => e)).name).toBe('InvalidTensorError')
    const badLabel = sliceDataset(digits, 0, 10)
    badLabel.y[3] = 12
    expect((await runtime.train(base, start, badLabel).catch((e) => e)).name).toBe('InvalidTensorError')
    expect((await runtime.train(base, start, trainSet, { learningRate: -1 }).catch((e) => e)).name).toBe('InvalidConfigError')
    expect((await runtime.train('sha256-nothing', start, trainSet).catch((e) => e)).name).toBe('ModelNotFoundError')
  })
})
