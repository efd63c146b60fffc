import { describe, expect, it } from 'vitest'
import { encodedWeightRecordSize } from '../../../src/federated/weights/codec.js'
import { createMemoryGrid } from '../../../src/federated/simulation/memory-grid.js'
import { createRng } from '../../../src/federated/rng.js'
import { compressUpdate, decompressUpdate, withClientPipeline } from '../../../src/federated/privacy/client-pipeline.js'
import { dequantizeInt8, densify, keptCount, parseCompression, quantizeInt8, topK, topKOptions } from '../../../src/federated/privacy/compression.js'
import { TopKState } from '../../../src/federated/privacy/dgc.js'
import { decodeCompressed, encodeCompressed } from '../../../src/federated/privacy/compression-codec.js'
import { dataset, fakeRuntime } from '../federated/helpers.js'
import type { WeightRecord } from '../../../src/model/types.js'

/** The example 2NN's layer shapes (784-200-200-10), filled with seeded normals. */
function mlp (seed: number, std = 0.05): WeightRecord {
  const rng = createRng(seed)
  const shapes: Array<[string, number[]]> = [['d1/k', [784, 200]], ['d1/b', [200]], ['d2/k', [200, 200]], ['d2/b', [200]], ['d3/k', [200, 10]], ['d3/b', [10]]]
  return shapes.map(([name, shape]) => ({ name, shape, dtype: 'float32', data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => std * rng.normal()) }))
}

describe('int8 quantization', () => {
  it('is unbiased and within one level of the value', () => {
    const x = Float32Array.from([0.3, -0.71, 1, 0.001, -1, 0])
    const rng = createRng(5)
    const mean = new Float64Array(x.length)
    const n = 20000
    let worst = 0
    for (let t = 0; t < n; t++) {
      const q = dequantizeInt8(quantizeInt8(x, rng.next))
      for (let i = 0; i < x.length; i++) {
        worst = Math.max(worst, Math.abs(q[i] - x[i]))
        mean[i] += q[i] / n
      }
    }
    expect(worst).toBeLessThanOrEqual(1 / 127 + 1e-7)
    for (let i = 0; i < x.length; i++) expect(mean[i]).toBeCloseTo(x[i], 3)
  })
})

describe('top-k with error feedback', () => {
  it('keeps the largest magnitudes', () => {
    const s = topK(Float32Array.from([0.1, -5, 3, 0, 4]), 2)
    expect(Array.from(s.indices)).toEqual([1, 4])
    expect(Array.from(densify(s))).toEqual([0, -5, 0, 0, 4])
  })

  it('loses nothing: what was sent plus the residual is every delta so far', () => {
    const ef = new TopKState()
    const rng = createRng(2)
    const total = new Float64Array(100)
    const sentTotal = new Float64Array(100)
    for (let round = 0; round < 5; round++) {
      const d = Float32Array.from({ length: 100 }, () => rng.normal())
      d.forEach((v, i) => { total[i] += v })
      const [sent] = ef.sparsify([d], 0.05)
      expect(sent.indices.length).toBe(5)
      densify(sent).forEach((v, i) => { sentTotal[i] += v })
    }
    const [flush] = ef.sparsify([new Float32Array(100)], 1)
    densify(flush).forEach((v, i) => { sentTotal[i] += v })
    for (let i = 0; i < 100; i++) expect(sentTotal[i]).toBeCloseTo(total[i], 4)
  })
})

describe('compressed update codec', () => {
  const global = mlp(1)
  const step = mlp(2, 0.01)
  const trained = global.map((t, l) => ({ ...t, data: Float32Array.from(t.data, (v, i) => v + step[l].data[i]) }))
  const dense = encodedWeightRecordSize(trained)

  it('int8 sends at least 3.9x fewer bytes than float32 and round-trips within one level', () => {
    const bytes = compressUpdate(global, trained, parseCompression('int8'), createRng(3)) as Uint8Array
    expect(dense / bytes.byteLength).toBeGreaterThanOrEqual(3.9)
    const back = decompressUpdate(global, bytes)
    for (let l = 0; l < back.length; l++) {
      let scale = 0
      let worst = 0
      for (let i = 0; i < back[l].data.length; i++) scale = Math.max(scale, Math.abs(trained[l].data[i] - global[l].data[i]))
      for (let i = 0; i < back[l].data.length; i++) worst = Math.max(worst, Math.abs(back[l].data[i] - trained[l].data[i]))
      expect(worst).toBeLessThanOrEqual(scale / 127 + 1e-6)
    }
  })

  it('top-k at 1 % sends at least 20x fewer bytes and keeps exactly the chosen values', () => {
    const bytes = compressUpdate(global, trained, parseCompression('topk:0.01'), createRng(3)) as Uint8Array
    expect(dense / bytes.byteLength).toBeGreaterThanOrEqual(20)
    const back = decompressUpdate(global, bytes)
    const changed = back.reduce((n, t, l) => n + t.data.filter((v, i) => v !== global[l].data[i]).length, 0)
    expect(changed).toBe(global.reduce((n, t) => n + keptCount(t.data.length, 0.01), 0))
  })

  it('rejects bad magic, truncation, disordered indices, wrong layer sizes and trailing bytes', () => {
    const lengths = [4]
    const good = encodeCompressed({ scheme: 'topk', layers: [{ length: 4, indices: Uint32Array.from([1, 3]), values: Float32Array.from([1, 2]) }] })
    expect(Array.from(decodeCompressed(good, lengths)[0])).toEqual([0, 1, 0, 2])
    const name = (f: () => unknown): string => { try { f(); return 'none' } catch (err: any) { return err.name } }
    const bad = good.slice(); bad[0] = 0
    expect(name(() => decodeCompressed(bad, lengths))).toBe('InvalidUpdateError')
    expect(name(() => decodeCompressed(good.subarray(0, good.length - 1), lengths))).toBe('InvalidUpdateError')
    expect(name(() => decodeCompressed(Uint8Array.from([...good, 0]), lengths))).toBe('InvalidUpdateError')
    expect(name(() => decodeCompressed(good, [5]))).toBe('InvalidUpdateError')
    const disordered = encodeCompressed({ scheme: 'topk', layers: [{ length: 4, indices: Uint32Array.from([3, 1]), values: Float32Array.from([1, 2]) }] })
    expect(name(() => decodeCompressed(disordered, lengths))).toBe('InvalidUpdateError')
  })

  it('parses compression names', () => {
    expect(parseCompression(undefined)).toEqual({ scheme: 'none' })
    expect(parseCompression('topk:0.01')).toMatchObject({ scheme: 'topk', ratio: 0.01, momentum: 0.9, warmupRounds: 3, warmupDensity: 0.1, clipNorm: 0 })
    expect(() => parseCompression('topk:2')).toThrow(/compression/)
    expect(() => parseCompression('zip')).toThrow(/compression/)
  })
})

describe('client pipeline grid', () => {
  it('reports the encoded size as bytes up and returns the decoded update', async () => {
    const runtime = fakeRuntime()
    const inner = createMemoryGrid({ runtime, clients: [{ id: 'a', data: dataset(10, 1) }] })
    const grid = withClientPipeline(inner, { compression: parseCompression('int8') })
    const weights = mlp(4)
    const request = { round: 1, modelVersion: 0, baseModelId: 'base', weights, config: { epochs: 1, batchSize: 10, learningRate: 0.1, proximalMu: 0, seed: 1 } }
    const plain = await inner.train('a', request, {})
    const packed = await grid.train('a', request, {})
    expect((plain.bytes?.up ?? 0) / (packed.bytes?.up ?? 1)).toBeGreaterThanOrEqual(3.9)
    expect(packed.weights[0].data[0]).toBeCloseTo(plain.weights[0].data[0], 2)
  })
})

describe('parseCompression with top-k options after the ratio', () => {
  it('reads every key and leaves the others at their defaults', () => {
    const c = parseCompression('topk:0.01,momentum=0,warmup=0,staleness=1,average=senders')
    expect(c).toEqual({ scheme: 'topk', ...topKOptions(0.01, { momentum: 0, warmupRounds: 0, staleness: 1, average: 'senders' }) })
    expect(parseCompression('topk:0.05,clip=2,warmupDensity=0.2')).toMatchObject({ ratio: 0.05, clipNorm: 2, warmupDensity: 0.2 })
  })

  it('refuses an unknown key, a missing value, a non-number and an out-of-range value with InvalidConfigError', () => {
    for (const bad of ['topk:0.01,speed=3', 'topk:0.01,momentum', 'topk:0.01,momentum=', 'topk:0.01,momentum=x', 'topk:0.01,momentum=1.5', 'topk:0.01,average=some', 'topk:0.01,a=b=c', 'int8,momentum=0']) {
      expect(() => parseCompression(bad), bad).toThrow(expect.objectContaining({ name: 'InvalidConfigError' }))
    }
  })
})
