import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contentId, createModelRuntime, loadMnist, models, writeModelDir } from '../../../src/model/index.js'
import type { ModelInfo, TensorData, TfModelRuntime } from '../../../src/model/index.js'

const EXAMPLE_DIR = fileURLToPath(new URL('../../../examples/models/mnist-mlp', import.meta.url))
/** The content id recorded in examples/models/mnist-mlp/README.md. */
const EXAMPLE_ID = 'sha256-eeea90ef1d54a41204f3959bebb0d1b36beda1fbdbe43ae4e0f8b6ccfae38e4a'

const digits = loadMnist()
const batch = (start: number, n: number): TensorData => ({ shape: [n, 784], dtype: 'float32', data: digits.x.slice(start * 784, (start + n) * 784) })

async function rejectionName (p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (err: any) {
    return err.name
  }
  return 'resolved'
}

describe('model runtime: loading and content ids', () => {
  let runtime: TfModelRuntime
  let example: ModelInfo
  let tmp: string

  beforeAll(async () => {
    runtime = await createModelRuntime()
    example = await runtime.loadFromDir(EXAMPLE_DIR)
    tmp = await mkdtemp(path.join(tmpdir(), 'edge-mesh-model-'))
  })
  afterAll(async () => {
    runtime.unloadAll()
    await rm(tmp, { recursive: true, force: true })
  })

  it('gives the example model its recorded, stable content id', async () => {
    expect(example.id).toBe(EXAMPLE_ID)
    expect(example.name).toBe('mnist-mlp')
    expect(example.inputShapes).toEqual([[-1, 784]])
    expect(example.outputShapes).toEqual([[-1, 10]])
    expect(example.parameters).toBe(784 * 200 + 200 + 200 * 200 + 200 + 200 * 10 + 10)
    const files = { modelJson: await readFile(path.join(EXAMPLE_DIR, 'model.json')), weights: await readFile(path.join(EXAMPLE_DIR, 'weights.bin')) }
    expect(contentId(files)).toBe(EXAMPLE_ID)
  })

  it('gives the same id via directory and via artifacts, in another runtime', async () => {
    const artifacts = runtime.exportArtifacts(example.id)
    const other = await createModelRuntime()
    const info = await other.loadFromArtifacts(artifacts, { expectedId: example.id })
    expect(info.id).toBe(example.id)
    const [a] = await runtime.predict(example.id, [batch(8000, 5)])
    const [b] = await other.predict(info.id, [batch(8000, 5)])
    expect(a.shape).toEqual([5, 10])
    expect(a.dtype).toBe('float32')
    expect(a.data).toBeInstanceOf(Float32Array)
    expect(Array.from(b.data)).toEqual(Array.from(a.data))
    other.unloadAll()
  })

  it('canonicalises a multi-file, non-canonical folder to the same id', async () => {
    const json = JSON.parse(await readFile(path.join(EXAMPLE_DIR, 'model.json'), 'utf8'))
    const weights = await readFile(path.join(EXAMPLE_DIR, 'weights.bin'))
    const cut = 4 * 784 * 200
    json.weightsManifest[0].paths = ['group1-shard1of2.bin', 'group1-shard2of2.bin']
    json.generatedBy = 'somebody else'
    const dir = path.join(tmp, 'sharded')
    await writeModelDir(dir, { modelJson: new TextEncoder().encode(JSON.stringify(json, null, 2)), weights: new Uint8Array() })
    await writeFile(path.join(dir, 'group1-shard1of2.bin'), weights.subarray(0, cut))
    await writeFile(path.join(dir, 'group1-shard2of2.bin'), weights.subarray(cut))
    expect((await runtime.loadFromDir(dir)).id).toBe(example.id)
  })

  it('expands uint8-quantised weights to float32 in the canonical form', async () => {
    const base = await runtime.createMlp({ inputSize: 3, hidden: [2], classes: 2, seed: 4 })
    const { modelJson } = runtime.exportArtifacts(base.id)
    const json = JSON.parse(new TextDecoder().decode(modelJson))
    const quantization = { dtype: 'uint8', min: -1, scale: 0.01 }
    const specs = json.weightsManifest[0].weights.map((w: any) => ({ ...w, quantization }))
    json.weightsManifest = [{ paths: ['q.bin'], weights: specs }]
    const total = specs.reduce((n: number, w: any) => n + w.shape.reduce((a: number, b: number) => a * b, 1), 0)
    const q = Uint8Array.from({ length: total }, (_, i) => (i * 37) % 256)
    const dir = path.join(tmp, 'quantised')
    await writeModelDir(dir, { modelJson: new TextEncoder().encode(JSON.stringify(json)), weights: new Uint8Array() })
    await writeFile(path.join(dir, 'q.bin'), q)
    const info = await runtime.loadFromDir(dir)
    const values = runtime.getWeights(info.id).flatMap((w) => Array.from(w.data))
    expect(values.length).toBe(total)
    values.forEach((v, i) => { expect(v).toBeCloseTo(-1 + 0.01 * q[i], 5) })
    const reread = JSON.parse(new TextDecoder().decode(runtime.exportArtifacts(info.id).modelJson))
    expect(reread.weightsManifest[0].weights[0].quantization).toBeUndefined()
  })

  it('rejects artifacts whose hash differs from the expected id', async () => {
    const artifacts = runtime.exportArtifacts(example.id)
    artifacts.weights[100] ^= 1
    const err = await runtime.loadFromArtifacts(artifacts, { expectedId: example.id }).catch((e) => e)
    expect(err.name).toBe('InvalidModelError')
    expect(err.message).toContain('content id mismatch')
  })

  it('changes the id when a single weight changes', async () => {
    const weights = runtime.getWeights(example.id)
    weights[5].data[0] += 0.5
    const changed = await runtime.createFromWeights(example.id, weights)
    expect(changed.id).not.toBe(example.id)
    expect(changed.id).toMatch(/^sha256-[0-9a-f]{64}$/)
    runtime.unload(changed.id)
  })

  it('reports missing and malformed files as InvalidModelError', async () => {
    expect(await rejectionName(runtime.loadFromDir(path.join(tmp, 'nowhere')))).toBe('InvalidModelError')
    const bad = path.join(tmp, 'bad')
    await writeModelDir(bad, { modelJson: new TextEncoder().encode('{ not json'), weights: new Uint8Array(4) })
    expect(await rejectionName(runtime.loadFromDir(bad))).toBe('InvalidModelError')
    const short = path.join(tmp, 'short')
    const artifacts = runtime.exportArtifacts(example.id)
    await writeModelDir(short, { modelJson: artifacts.modelJson, weights: artifacts.weights.subarray(0, 1000) })
    expect(await rejectionName(runtime.loadFromDir(short))).toBe('InvalidModelError')
    expect(await rejectionName(runtime.loadFromArtifacts({ modelJson: new TextEncoder().encode('{}'), weights: new Uint8Array() }))).toBe('InvalidModelError')
  })

  it('writes folders that tf.loadLayersModel reads', async () => {
    const dir = path.join(tmp, 'saved')
    await runtime.saveToDir(example.id, dir)
    const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'))
    const weights = await readFile(path.join(dir, 'weights.bin'))
    const model = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength)
    }))
    const out = tf.tidy(() => model.predict(tf.tensor(batch(8000, 3).data, [3, 784])) as tf.Tensor)
    const [mine] = await runtime.predict(example.id, [batch(8000, 3)])
    const theirs = await out.data()
    Array.from(mine.data).forEach((v, i) => { expect(theirs[i]).toBeCloseTo(v, 5) })
    tf.dispose(out)
    model.dispose()
  })
})

describe('model runtime: predict', () => {
  let runtime: TfModelRuntime
  let id: string

  beforeAll(async () => {
    runtime = await createModelRuntime({ modelDirs: [EXAMPLE_DIR] })
    id = runtime.list()[0].id
  })
  afterAll(() => { runtime.unloadAll() })

  it('classifies held-out digits', async () => {
    const [probs] = await runtime.predict(id, [batch(9000, 100)])
    let correct = 0
    for (let i = 0; i < 100; i++) {
      const row = Array.from(probs.data.subarray(i * 10, i * 10 + 10))
      if (row.indexOf(Math.max(...row)) === digits.y[9000 + i]) correct++
    }
    expect(correct).toBeGreaterThan(85)
  })

  it('rejects wrong shape, dtype, data length and input count with InvalidTensorError', async () => {
    const wrongShape = { shape: [1, 783], dtype: 'float32' as const, data: new Float32Array(783) }
    const err = await runtime.predict(id, [wrongShape]).catch((e) => e)
    expect(err.name).toBe('InvalidTensorError')
    expect(err.message).toContain('input 0')
    expect(err.message).toContain('[1,783]')
    expect(err.message).toContain('[-1,784]')
    expect(await rejectionName(runtime.predict(id, [{ shape: [784], dtype: 'float32', data: new Float32Array(784) }]))).toBe('InvalidTensorError')
    expect(await rejectionName(runtime.predict(id, [{ shape: [1, 784], dtype: 'int32', data: new Int32Array(784) }]))).toBe('InvalidTensorError')
    expect(await rejectionName(runtime.predict(id, [{ shape: [1, 784], dtype: 'float32', data: new Float32Array(700) }]))).toBe('InvalidTensorError')
    expect(await rejectionName(runtime.predict(id, [batch(0, 1), batch(0, 1)]))).toBe('InvalidTensorError')
  })

  it('reports an unknown model as ModelNotFoundError', async () => {
    const unknown = 'sha256-' + '0'.repeat(64)
    expect(await rejectionName(runtime.predict(unknown, [batch(0, 1)]))).toBe('ModelNotFoundError')
    expect(await rejectionName(() => runtime.getWeights(unknown))).toBe('ModelNotFoundError')
    expect(await rejectionName(() => runtime.exportArtifacts(unknown))).toBe('ModelNotFoundError')
    expect(runtime.has(unknown)).toBe(false)
    expect(runtime.get(unknown)).toBeUndefined()
  })

  it('does not leak tensors over 200 predictions', async () => {
    await runtime.predict(id, [batch(0, 1)])
    const before = tf.memory().numTensors
    for (let i = 0; i < 200; i++) await runtime.predict(id, [batch(i, 1 + (i % 4))])
    expect(tf.memory().numTensors).toBe(before)
  })

  it('frees a model on unload', async () => {
    const before = tf.memory().numTensors
    const copy = await runtime.createFromWeights(id, runtime.getWeights(id).map((w) => ({ ...w, data: w.data.map((v) => v * 0.5) })))
    expect(tf.memory().numTensors).toBeGreaterThan(before)
    runtime.unload(copy.id)
    expect(runtime.has(copy.id)).toBe(false)
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('model runtime: weights and MLPs', () => {
  let runtime: TfModelRuntime
  beforeAll(async () => { runtime = await createModelRuntime() })
  afterAll(() => { runtime.unloadAll() })

  it('creates MLPs deterministically from the seed', async () => {
    const spec = { inputSize: 20, hidden: [8], classes: 3, seed: 7 }
    const a = await runtime.createMlp(spec)
    const other = await createModelRuntime()
    const b = await other.createMlp(spec)
    expect(b.id).toBe(a.id)
    expect(other.getWeights(b.id)).toEqual(runtime.getWeights(a.id))
    const c = await runtime.createMlp({ ...spec, seed: 8 })
    expect(c.id).not.toBe(a.id)
    expect(runtime.getWeights(a.id).map((w) => [w.name, w.shape])).toEqual([
      ['dense_1/kernel', [20, 8]], ['dense_1/bias', [8]], ['output/kernel', [8, 3]], ['output/bias', [3]]
    ])
    other.unloadAll()
  })

  it('round-trips weights through createFromWeights', async () => {
    const base = await runtime.createMlp({ inputSize: 4, hidden: [3], classes: 2, seed: 1 })
    const weights = runtime.getWeights(base.id).map((w) => ({ ...w, data: w.data.map((v) => v + 0.25) }))
    const info = await runtime.createFromWeights(base.id, weights)
    expect(runtime.getWeights(info.id)).toEqual(weights)
    expect((await runtime.createFromWeights(base.id, [...weights].reverse())).id).toBe(info.id)
  })

  it('names the weight when createFromWeights gets a wrong shape, dtype or name', async () => {
    const base = await runtime.createMlp({ inputSize: 4, hidden: [3], classes: 2, seed: 1 })
    const weights = runtime.getWeights(base.id)
    const wrongShape = weights.map((w, i) => i === 2 ? { ...w, shape: [2, 3] } : w)
    const err = await runtime.createFromWeights(base.id, wrongShape).catch((e) => e)
    expect(err.name).toBe('InvalidTensorError')
    expect(err.message).toContain('output/kernel')
    expect(await rejectionName(runtime.createFromWeights(base.id, weights.slice(1)))).toBe('InvalidTensorError')
    expect(await rejectionName(runtime.createFromWeights(base.id, [...weights, { ...weights[0], name: 'extra' }]))).toBe('InvalidTensorError')
    expect(await rejectionName(runtime.createFromWeights(base.id, weights.map((w) => ({ ...w, dtype: 'int32' as const, data: new Int32Array(w.data.length) }))))).toBe('InvalidTensorError')
  })

  it('rejects a bad MLP spec with InvalidConfigError', async () => {
    expect(await rejectionName(runtime.createMlp({ inputSize: 0, hidden: [], classes: 2 }))).toBe('InvalidConfigError')
    expect(await rejectionName(runtime.createMlp({ inputSize: 4, hidden: [2.5], classes: 2 }))).toBe('InvalidConfigError')
  })
})

describe('models() service', () => {
  it('starts and stops twice safely and loads model folders', async () => {
    const service = models({ modelDirs: [EXAMPLE_DIR] })({})
    expect(service.list()).toEqual([])
    expect(await rejectionName(() => service.backend)).toBe('NotStartedError')
    await service.start()
    await service.start()
    expect(service.list().map((m) => m.id)).toEqual([EXAMPLE_ID])
    expect(['tensorflow', 'wasm', 'cpu']).toContain(service.backend)
    await service.stop()
    await service.stop()
    expect(service.list()).toEqual([])
    expect(await rejectionName(service.predict(EXAMPLE_ID, []))).toBe('NotStartedError')
  })
})
