import { describe, expect, it } from 'vitest'
import { bucketUpdates, withBucketing } from '../../../src/federated/strategies/bucketing.js'
import { createStrategy } from '../../../src/federated/strategies/create-strategy.js'
import type { ClientUpdate } from '../../../src/federated/grid.js'

function update (id: string, value: number, numExamples: number): ClientUpdate {
  return { clientId: id, numExamples, metrics: { loss: 0, accuracy: 0, trainMs: 0 }, weights: [{ name: 'w', shape: [2], dtype: 'float32', data: new Float32Array([value, -value]) }] }
}

describe('bucketing', () => {
  const updates = [update('a', 1, 10), update('b', 2, 30), update('c', 3, 10), update('d', 4, 50), update('e', 5, 100)]

  it('makes ceil(n / s) buckets whose example-weighted means keep the overall mean', () => {
    const buckets = bucketUpdates(updates, 2, 7)
    expect(buckets).toHaveLength(3)
    const total = (list: ClientUpdate[]): number => list.reduce((sum, u) => sum + u.weights[0].data[0] * u.numExamples, 0)
    expect(buckets.reduce((n, b) => n + b.numExamples, 0)).toBe(200)
    expect(total(buckets)).toBeCloseTo(total(updates), 4)
    expect(new Set(buckets.flatMap(b => b.clientId.split('+')))).toEqual(new Set(['a', 'b', 'c', 'd', 'e']))
  })

  it('is deterministic for a seed and changes with it', () => {
    const ids = (seed: number): string[] => bucketUpdates(updates, 2, seed).map(b => b.clientId)
    expect(ids(3)).toEqual(ids(3))
    expect(new Set([1, 2, 3, 4, 5, 6].map(s => ids(s).join('|'))).size).toBeGreaterThan(1)
  })

  it('is off at size 1 and wraps only the robust strategies', () => {
    expect(bucketUpdates(updates, 1, 0).map(u => u.clientId)).toEqual(['a', 'b', 'c', 'd', 'e'])
    const median = createStrategy('fedmedian')
    expect(withBucketing(median, 1)).toBe(median)
    expect(createStrategy('krum', { bucketSize: 2 }).name).toBe('krum+bucketing(2)')
    expect(createStrategy('fedavg', { bucketSize: 2 }).name).toBe('fedavg')
  })

  it('a median of bucket means still outvotes one attacker', () => {
    const honest = [0, 0, 0, 0, 2, 2, 2].map((v, i) => update(`h${i}`, v, 10))
    const ctx: any = { round: 1, attempt: 1, global: honest[0].weights, clients: [], sampleSize: 8 }
    const out = createStrategy('fedmedian', { bucketSize: 2 }).aggregate(ctx, [...honest, update('evil', 1000, 10)], [])
    expect(Math.abs(out[0].data[0])).toBeLessThan(2)
  })
})
