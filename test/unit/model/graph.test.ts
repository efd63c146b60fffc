import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { referenceForward, tinyGraph, tinyGraphInt, TINY } from '../../../examples/models/tiny-graphs.js'
import { canonicalise } from '../../../src/model/canonical.js'
import { usesAsyncOps } from '../../../src/model/executable.js'
import { createModelRuntime, isPackagedModelName, packagedModels, writeModelDir } from '../../../src/model/index.js'
import type { ModelInfo, TfModelRuntime } from '../../../src/model/index.js'

const examples = (name: string): string => fileURLToPath(new URL(`../../../examples/models/${name}`, import.meta.url))

async function rejectionName (p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err: any) {
    return err.name
  }
  return 'resolved'
}

function maxAbsDiff (a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let max = 0
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]))
  return max
}

describe('graph models', () => {
  let runtime: TfModelRuntime
  let graph: ModelInfo
  let intGraph: ModelInfo
  let tmp: string

  beforeAll(async () => {
    runtime = await createModelRuntime()
    graph = await runtime.loadFromDir(examples('tiny-graph'))
    intGraph = await runtime.loadFromDir(examples('tiny-graph-int'))
    tmp = await mkdtemp(path.join(tmpdir(), 'edge-mesh-graph-'))
  })
  afterAll(async () => {
    runtime.unloadAll()
    await rm(tmp, { recursive: true, force: true })
  })

  it('the committed fixtures are what examples/models/tiny-graphs.ts writes', async () => {
    for (const [name, make] of [['tiny-graph', tinyGraph], ['tiny-graph-int', tinyGraphInt]] as const) {
      const { modelJson, weights } = make()
      expect(JSON.parse(await readFile(path.join(examples(name), 'model.json'), 'utf8'))).toEqual(modelJson)
      expect(new Uint8Array(await readFile(path.join(examples(name), 'weights.bin')))).toEqual(weights)
    }
  })

  it('describes a graph model: format, input signature, free or fixed batch, execution mode', () => {
    expect(graph).toMatchObject({ format: 'graph-model', inputs: [{ name: 'x', dtype: 'float32', shape: [-1, TINY.inputs] }], fixedBatch: false })
    expect(graph.inputShapes).toEqual([[-1, TINY.inputs]])
    expect(intGraph).toMatchObject({ format: 'graph-model', inputs: [{ name: 'x', dtype: 'int32', shape: [1, TINY.inputs] }], fixedBatch: true })
    expect(runtime.get(graph.id)?.execution).toBe('sync')
    expect(runtime.get(intGraph.id)?.execution).toBe('async')
  })

  it('runs a float32 graph with execute, matching the JavaScript reference', async () => {
    const x = Float32Array.from({ length: 3 * TINY.inputs }, (_, i) => Math.sin(i))
    const [probs] = await runtime.predict(graph.id, [{ shape: [3, TINY.inputs], dtype: 'float32', data: x }])
    expect(probs.shape).toEqual([3, TINY.classes])
    expect(maxAbsDiff(probs.data, referenceForward(x, 3, false))).toBeLessThanOrEqual(1e-5)
  })

  it('runs an int32 graph with control flow through executeAsync, on both branches', async () => {
    for (const values of [[1, 2, 3, -1, 0, 0, 1, 1], [-3, -2, 0, 1, 0, 0, -1, 0]]) {
      const x = Int32Array.from(values)
      const [probs] = await runtime.predict(intGraph.id, [{ shape: [1, TINY.inputs], dtype: 'int32', data: x }])
      expect(maxAbsDiff(probs.data, referenceForward(x, 1, true))).toBeLessThanOrEqual(1e-5)
    }
  })

  it('refuses inputs of the wrong dtype or a batch other than the fixed one', async () => {
    const floats = { shape: [1, TINY.inputs], dtype: 'float32' as const, data: new Float32Array(TINY.inputs) }
    expect(await rejectionName(runtime.predict(intGraph.id, [floats]))).toBe('InvalidTensorError')
    const two = { shape: [2, TINY.inputs], dtype: 'int32' as const, data: new Int32Array(2 * TINY.inputs) }
    expect(await rejectionName(runtime.predict(intGraph.id, [two]))).toBe('InvalidTensorError')
  })

  it('records the measured inference time', async () => {
    const info = runtime.get(graph.id)
    expect(info?.timing?.calls).toBeGreaterThan(0)
    expect(info?.timing?.p50Ms).toBeGreaterThan(0)
  })

  it('canonical model.json keeps format, topology and weights only; the id survives export and reload', async () => {
    const { modelJson, weights } = runtime.exportArtifacts(graph.id)
    const json = JSON.parse(new TextDecoder().decode(modelJson))
    expect(Object.keys(json)).toEqual(['format', 'modelTopology', 'weightsManifest'])
    expect(json.format).toBe('graph-model')
    expect(json.weightsManifest).toEqual([{ paths: ['weights.bin'], weights: [
      { dtype: 'float32', name: 'w1', shape: [8, 16] }, { dtype: 'float32', name: 'b1', shape: [16] },
      { dtype: 'float32', name: 'w2', shape: [16, 4] }, { dtype: 'float32', name: 'b2', shape: [4] }
    ] }])
    const other = await createModelRuntime()
    try {
      const again = await other.loadFromArtifacts({ modelJson, weights }, { expectedId: graph.id })
      expect(again.id).toBe(graph.id)
      await writeModelDir(path.join(tmp, 'copy'), { modelJson, weights })
      expect((await other.loadFromDir(path.join(tmp, 'copy'))).id).toBe(graph.id)
    } finally {
      other.unloadAll()
    }
  })

  it('keeps a signature, drops converter metadata, and infers the format of an old file without one', () => {
    const { modelJson, weights } = tinyGraph()
    const specs = (modelJson.weightsManifest as any)[0].weights
    const base = canonicalise({ ...modelJson, weightSpecs: specs, weightData: weights })
    const unlabeled = canonicalise({ modelTopology: modelJson.modelTopology, weightSpecs: specs, weightData: weights })
    expect(unlabeled.id).toBe(base.id)
    const signature = { inputs: { 'x:0': { name: 'x:0', dtype: 'DT_FLOAT' } } }
    const signed = canonicalise({ ...modelJson, signature, weightSpecs: specs, weightData: weights })
    expect(signed.id).not.toBe(base.id)
    expect(JSON.parse(new TextDecoder().decode(signed.artifacts.modelJson)).signature).toEqual(signature)
  })

  it('refuses hash-table initialisers and unknown formats', () => {
    const { modelJson, weights } = tinyGraph()
    const specs = (modelJson.weightsManifest as any)[0].weights
    expect(() => canonicalise({ ...modelJson, modelInitializer: { node: [] }, weightSpecs: specs, weightData: weights })).toThrow(expect.objectContaining({ name: 'InvalidModelError' }))
    expect(() => canonicalise({ ...modelJson, format: 'saved-model', weightSpecs: specs, weightData: weights })).toThrow(expect.objectContaining({ name: 'InvalidModelError' }))
  })

  it('a broken graph is an InvalidModelError', async () => {
    const { modelJson, weights } = tinyGraph()
    const topology = modelJson.modelTopology as { node: Array<{ name: string, input?: string[] }> }
    topology.node.find((n) => n.name === 'probs')!.input = ['missing_node']
    await writeFile(path.join(tmp, 'model.json'), JSON.stringify(modelJson))
    await writeFile(path.join(tmp, 'weights.bin'), weights)
    expect(await rejectionName(runtime.loadFromDir(tmp))).toBe('InvalidModelError')
  })

  it('new weights make a new graph model; graph models cannot be trained', async () => {
    const weights = runtime.getWeights(graph.id)
    weights[3].data[0] += 1
    const changed = await runtime.createFromWeights(graph.id, weights)
    expect(changed.id).not.toBe(graph.id)
    expect(changed.format).toBe('graph-model')
    const data = { x: new Float32Array(TINY.inputs), y: Int32Array.from([0]), featureShape: [TINY.inputs], numClasses: TINY.classes, count: 1 }
    expect(await rejectionName(runtime.train(graph.id, weights, data))).toBe('ModelNotTrainableError')
    expect(await rejectionName(runtime.evaluate(graph.id, weights, data))).toBe('ModelNotTrainableError')
    runtime.unload(changed.id)
  })

  it('finds control-flow ops in the graph and in its function library', () => {
    expect(usesAsyncOps({ node: [{ op: 'MatMul' }] })).toBe(false)
    expect(usesAsyncOps({ node: [{ op: 'Where' }] })).toBe(true)
    expect(usesAsyncOps({ node: [], library: { function: [{ nodeDef: [{ op: 'StatelessWhile' }] }] } })).toBe(true)
  })
})

describe('packaged models', () => {
  it('are named <alias>:<model> and resolved from the installed package', async () => {
    expect(packagedModels().map((m) => m.name)).toEqual(['human:movenet-lightning', 'human:blazeface', 'nsfwjs:mobilenet_v2', 'edge-mesh:mnist-mlp'])
    expect(isPackagedModelName('human:blazeface')).toBe(true)
    expect(isPackagedModelName('./models/mnist')).toBe(false)
    const runtime = await createModelRuntime()
    try {
      expect(await rejectionName(runtime.loadFromDir('human:no-such-model'))).toBe('ModelNotFoundError')
      // BlazeFace is the smallest packaged model (0.6 MB); the large ones belong to `npm run bench:models`.
      const face = await runtime.loadFromDir('human:blazeface')
      expect(face).toMatchObject({ name: 'human:blazeface', format: 'graph-model', fixedBatch: true, inputs: [{ dtype: 'float32', shape: [1, 256, 256, 3] }] })
      const outputs = await runtime.predict(face.id, [{ shape: [1, 256, 256, 3], dtype: 'float32', data: new Float32Array(256 * 256 * 3).fill(0.5) }])
      expect(outputs.map((o) => o.shape[0])).toEqual([1, 1, 1, 1])
    } finally {
      runtime.unloadAll()
    }
  })
})

describe('sub-models (a frozen base)', () => {
  it('cuts a layers model at a layer; the part computes that layer\'s activations', async () => {
    const runtime = await createModelRuntime()
    try {
      const mlp = await runtime.loadFromDir(examples('mnist-mlp'))
      const base = await runtime.createSubModel(mlp.id, 'dense_1')
      expect(base).toMatchObject({ format: 'layers-model', inputShapes: [[-1, 784]], outputShapes: [[-1, 200]], parameters: 784 * 200 + 200 })
      expect(base.id).not.toBe(mlp.id)
      const x = Float32Array.from({ length: 784 }, (_, i) => (i % 17) / 17)
      const [hidden] = await runtime.predict(base.id, [{ shape: [1, 784], dtype: 'float32', data: x }])
      const [kernel, bias] = runtime.getWeights(mlp.id)
      const expected = Array.from({ length: 200 }, (_, j) => Math.max(0, x.reduce((acc, v, i) => acc + v * kernel.data[i * 200 + j], bias.data[j])))
      expect(Math.max(...expected.map((v, j) => Math.abs(v - hidden.data[j])))).toBeLessThanOrEqual(1e-4)
      expect(await rejectionName(runtime.createSubModel(mlp.id, 'no_such_layer'))).toBe('InvalidModelError')
      const graph = await runtime.loadFromDir(examples('tiny-graph'))
      expect(await rejectionName(runtime.createSubModel(graph.id, 'probs'))).toBe('ModelNotTrainableError')
    } finally {
      runtime.unloadAll()
    }
  })
})
