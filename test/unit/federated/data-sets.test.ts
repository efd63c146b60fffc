import { describe, expect, it } from 'vitest'
import { CoordinatorDataSets } from '../../../src/federated/mesh/data-sets.js'
import type { Dataset } from '../../../src/model/types.js'

function dataset (count: number): Dataset {
  return { x: new Float32Array(count), y: new Int32Array(count), count, inputShape: [1], classes: 1 } as unknown as Dataset
}

describe('coordinator data sets', () => {
  it('loads a spec once and shares it', async () => {
    const loads: string[] = []
    const sets = new CoordinatorDataSets(2, async (spec) => { loads.push(spec); return dataset(1) })
    const [a, b] = await Promise.all([sets.get('mnist:test'), sets.get('mnist:test')])
    expect(a).toBe(b)
    expect(loads).toEqual(['mnist:test'])
  })

  it('keeps at most max specs, dropping the least recently used', async () => {
    const loads: string[] = []
    const sets = new CoordinatorDataSets(2, async (spec) => { loads.push(spec); return dataset(1) })
    await sets.get('a')
    await sets.get('b')
    await sets.get('a')
    await sets.get('c')
    await sets.get('a')
    await sets.get('b')
    expect(loads).toEqual(['a', 'b', 'c', 'b'])
  })

  it('does not keep a failed load', async () => {
    let calls = 0
    const sets = new CoordinatorDataSets(2, async () => {
      calls++
      if (calls === 1) throw new Error('unreadable')
      return dataset(1)
    })
    await expect(sets.get('dir')).rejects.toThrow('unreadable')
    await expect(sets.get('dir')).resolves.toBeDefined()
    expect(calls).toBe(2)
  })
})
