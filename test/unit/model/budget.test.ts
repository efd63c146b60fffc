import { describe, expect, it } from 'vitest'
import { chooseEvictions, createModelRuntime } from '../../../src/model/index.js'
import type { BudgetEntry, TensorData } from '../../../src/model/index.js'

const entry = (id: string, over: Partial<BudgetEntry> = {}): BudgetEntry => ({ id, bytes: 10, origin: 'fetched', refs: 0, lastUsed: 0, ...over })

describe('model budget: which models to unload', () => {
  it('unloads nothing when the model fits', () => {
    expect(chooseEvictions([entry('a')], 10, { maxBytes: 100, maxModels: 4 })).toEqual([])
  })

  it('unloads the least recently used idle models until the count fits', () => {
    const entries = [entry('a', { lastUsed: 3 }), entry('b', { lastUsed: 1 }), entry('c', { lastUsed: 2 })]
    expect(chooseEvictions(entries, 10, { maxBytes: 1000, maxModels: 3 })).toEqual(['b'])
    expect(chooseEvictions(entries, 10, { maxBytes: 1000, maxModels: 2 })).toEqual(['b', 'c'])
  })

  it('unloads until the bytes fit', () => {
    const entries = [entry('a', { bytes: 40, lastUsed: 1 }), entry('b', { bytes: 40, lastUsed: 2 })]
    expect(chooseEvictions(entries, 30, { maxBytes: 100, maxModels: 10 })).toEqual(['a'])
    expect(chooseEvictions(entries, 70, { maxBytes: 100, maxModels: 10 })).toEqual(['a', 'b'])
  })

  it('never unloads a model in use or a configured model, and refuses when nothing else makes room', () => {
    const entries = [entry('busy', { refs: 1, lastUsed: 0 }), entry('mine', { origin: 'configured', lastUsed: 0 }), entry('idle', { lastUsed: 5 })]
    expect(chooseEvictions(entries, 10, { maxBytes: 1000, maxModels: 3 })).toEqual(['idle'])
    expect(chooseEvictions(entries, 10, { maxBytes: 1000, maxModels: 2 })).toBeUndefined()
  })

  it('unloads models fetched for peers before models this node created', () => {
    const entries = [entry('global', { origin: 'created', lastUsed: 0 }), entry('stranger', { origin: 'fetched', lastUsed: 9 })]
    expect(chooseEvictions(entries, 10, { maxBytes: 1000, maxModels: 2 })).toEqual(['stranger'])
  })

  it('refuses a model larger than the whole budget', () => {
    expect(chooseEvictions([], 101, { maxBytes: 100, maxModels: 10 })).toBeUndefined()
  })
})

describe('model budget in the runtime', () => {
  const input: TensorData = { shape: [1, 4], dtype: 'float32', data: new Float32Array(4) }
  const mlp = (seed: number) => ({ inputSize: 4, hidden: [3], classes: 2, seed })

  it('keeps the count within the budget, unloads idle models and refuses when all are in use', async () => {
    const source = await createModelRuntime()
    const artifacts = await Promise.all([1, 2, 3, 4].map(async seed => source.exportArtifacts((await source.createMlp(mlp(seed))).id)))
    const runtime = await createModelRuntime({ maxModels: 2 })
    try {
      const a = await runtime.loadFromArtifacts(artifacts[0])
      const b = await runtime.loadFromArtifacts(artifacts[1])
      const c = await runtime.loadFromArtifacts(artifacts[2])
      expect(runtime.budget()).toMatchObject({ count: 2, maxModels: 2, evictions: 1 })
      expect(runtime.has(a.id)).toBe(false)
      expect(runtime.has(b.id) && runtime.has(c.id)).toBe(true)
      expect(c.origin).toBe('fetched')
      const releaseB = runtime.retain(b.id)
      const releaseC = runtime.retain(c.id)
      expect(runtime.admits(10)).toBe(false)
      const refused = await runtime.loadFromArtifacts(artifacts[3]).catch((err: Error) => err)
      expect((refused as Error).name).toBe('ModelBudgetExceededError')
      expect(runtime.budget().refusals).toBe(2)
      releaseB()
      releaseC()
      await runtime.predict(b.id, [input])
      await runtime.loadFromArtifacts(artifacts[3])
      expect(runtime.has(b.id)).toBe(true)
      expect(runtime.has(c.id)).toBe(false)
    } finally {
      runtime.unloadAll()
      source.unloadAll()
    }
  })

  it('never unloads a configured model and marks created ones', async () => {
    const runtime = await createModelRuntime({ modelDirs: ['examples/models/mnist-mlp'], maxModels: 2 })
    try {
      const created = await runtime.createMlp(mlp(1))
      expect(created.origin).toBe('created')
      await runtime.createMlp(mlp(2))
      expect(runtime.list().map(m => m.origin).sort()).toEqual(['configured', 'created'])
    } finally {
      runtime.unloadAll()
    }
  })
})
