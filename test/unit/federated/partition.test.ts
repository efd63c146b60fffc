import { describe, expect, it } from 'vitest'
import { labelCounts, partitionIndices } from '../../../src/federated/partition.js'
import { createRng } from '../../../src/federated/rng.js'

/** 1,000 labels, 100 per class, in a scrambled order. */
function labels (): Int32Array {
  const y = Int32Array.from({ length: 1000 }, (_, i) => i % 10)
  return Int32Array.from(createRng(99).shuffle(Array.from(y)))
}

function checkCover (parts: number[][], n: number): void {
  const all = parts.flat().sort((a, b) => a - b)
  expect(all).toEqual(Array.from({ length: n }, (_, i) => i))
}

describe('partitionIndices', () => {
  const y = labels()

  it('iid: near-equal sizes covering every example once', () => {
    const parts = partitionIndices(y, 7, 'iid', 1)
    expect(parts).toHaveLength(7)
    checkCover(parts, y.length)
    for (const p of parts) expect([142, 143]).toContain(p.length)
  })

  it('noniid: 2 shards per client, so most clients hold at most 2 labels', () => {
    const parts = partitionIndices(y, 20, 'noniid', 1)
    checkCover(parts, y.length)
    for (const p of parts) expect(p.length).toBe(50)
    const classesPerClient = labelCounts(y, parts, 10).map((c) => c.filter((n) => n > 0).length)
    for (const k of classesPerClient) expect(k).toBeLessThanOrEqual(2)
    const iidClasses = labelCounts(y, partitionIndices(y, 20, 'iid', 1), 10).map((c) => c.filter((n) => n > 0).length)
    expect(Math.min(...iidClasses)).toBeGreaterThan(2)
  })

  it('dirichlet: small alpha skews labels more than large alpha, no client empty', () => {
    const skew = (alpha: string): number => {
      const parts = partitionIndices(y, 10, `dirichlet:${alpha}`, 3)
      checkCover(parts, y.length)
      for (const p of parts) expect(p.length).toBeGreaterThan(0)
      // mean share of each client's most common label
      const counts = labelCounts(y, parts, 10)
      return counts.reduce((s, c) => s + Math.max(...c) / c.reduce((a, b) => a + b, 0), 0) / counts.length
    }
    expect(skew('0.1')).toBeGreaterThan(skew('100'))
  })

  it('is deterministic for a seed and differs across seeds', () => {
    for (const scheme of ['iid', 'noniid', 'dirichlet:0.5']) {
      expect(partitionIndices(y, 10, scheme, 5)).toEqual(partitionIndices(y, 10, scheme, 5))
      expect(partitionIndices(y, 10, scheme, 5)).not.toEqual(partitionIndices(y, 10, scheme, 6))
    }
  })

  it('rejects unknown schemes and impossible splits', () => {
    expect(() => partitionIndices(y, 10, 'zipf', 1)).toThrow(expect.objectContaining({ name: 'InvalidConfigError' }))
    expect(() => partitionIndices(y, 10, 'dirichlet:0', 1)).toThrow(expect.objectContaining({ name: 'InvalidConfigError' }))
    expect(() => partitionIndices(y, 2000, 'iid', 1)).toThrow(expect.objectContaining({ name: 'InvalidConfigError' }))
  })
})
