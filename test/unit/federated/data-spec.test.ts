import { describe, expect, it } from 'vitest'
import { loadData, parseDataSpec, parseDataSpecs, shardSpecs } from '../../../src/federated/mesh/data-spec.js'
import { partitionIndices } from '../../../src/federated/partition.js'
import { deriveSeed } from '../../../src/federated/rng.js'
import { loadMnist } from '../../../src/model/datasets.js'

const invalid = expect.objectContaining({ name: 'InvalidConfigError' })

describe('--data specs', () => {
  it('parses shards with partition and seed options, mnist:test and directories', () => {
    expect(parseDataSpec('mnist:0/4')).toEqual({ kind: 'mnist-shard', shard: 0, of: 4, scheme: 'iid', seed: 0 })
    expect(parseDataSpec('mnist:3/10:noniid:seed=7')).toEqual({ kind: 'mnist-shard', shard: 3, of: 10, scheme: 'noniid', seed: 7 })
    expect(parseDataSpec('mnist:1/5:dirichlet=0.5')).toEqual({ kind: 'mnist-shard', shard: 1, of: 5, scheme: 'dirichlet:0.5', seed: 0 })
    expect(parseDataSpec('mnist:test')).toEqual({ kind: 'mnist-test' })
    expect(parseDataSpec('./my-data')).toEqual({ kind: 'dir', path: './my-data' })
    expect(parseDataSpecs('mnist:0/8,mnist:4/8')).toHaveLength(2)
  })

  it('rejects malformed specs with InvalidConfigError', () => {
    for (const bad of ['mnist:4/4', 'mnist:a/4', 'mnist:0/0', 'mnist:1', 'mnist:0/4:bogus', 'mnist:0/4:iid:noniid',
      'mnist:0/4:dirichlet=0', 'mnist:0/4:dirichlet=x', 'mnist:0/4:seed=-1', 'mnist:test:iid', '', 'mnist:0/4,']) {
      expect(() => parseDataSpecs(bad), bad).toThrow(invalid)
    }
  })

  it('cuts the same shards as the core partition, identical for the same spec', async () => {
    const [a, b] = await loadData('mnist:1/4:noniid:seed=3,mnist:1/4:noniid:seed=3')
    const mnist = loadMnist()
    const parts = partitionIndices(mnist.y.subarray(0, 8000), 4, 'noniid', deriveSeed(3, 1))
    expect(a.count).toBe(parts[1].length)
    expect(Array.from(a.y)).toEqual(parts[1].map(i => mnist.y[i]))
    expect(Array.from(b.y)).toEqual(Array.from(a.y))
    const [test] = await loadData('mnist:test')
    expect(test.count).toBe(2000)
  })

  it('spreads K shards over N nodes', () => {
    expect(shardSpecs(1, 4, 10, 'dirichlet:0.3', 2)).toBe('mnist:1/10:dirichlet=0.3:seed=2,mnist:5/10:dirichlet=0.3:seed=2,mnist:9/10:dirichlet=0.3:seed=2')
    expect(shardSpecs(5, 8, 4, 'iid', 0)).toBe('')
  })
})
