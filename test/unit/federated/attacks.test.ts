import { describe, expect, it } from 'vitest'
import { attackUpdate, flipLabels, parseAttack } from '../../../src/federated/simulation/attacks.js'
import { createStrategy } from '../../../src/federated/strategies/create-strategy.js'
import { createMemoryGrid } from '../../../src/federated/simulation/memory-grid.js'
import { createRng } from '../../../src/federated/rng.js'
import { runFederated } from '../../../src/federated/run.js'
import { constant, dataset, fakeRuntime, flat } from './helpers.js'
import type { AttackName } from '../../../src/federated/simulation/attacks.js'

describe('attacks', () => {
  const global = constant(1)
  const honest = constant(2)

  it('signflip reverses the update, scale boosts it', () => {
    expect(flat(attackUpdate('signflip', global, honest, createRng(1)))).toEqual(new Array(6).fill(0))
    expect(flat(attackUpdate('scale', global, honest, createRng(1), { scale: 5 }))).toEqual(new Array(6).fill(6))
  })

  it('noise perturbs every value, deterministically for a seed', () => {
    const a = flat(attackUpdate('noise', global, honest, createRng(1)))
    expect(a.every((v) => v !== 2)).toBe(true)
    expect(flat(attackUpdate('noise', global, honest, createRng(1)))).toEqual(a)
  })

  it('labelflip changes labels, not weights', () => {
    expect(attackUpdate('labelflip', global, honest, createRng(1))).toBe(honest)
    const ds = { ...dataset(3, 0), numClasses: 10, y: Int32Array.from([0, 3, 9]) }
    expect(Array.from(flipLabels(ds).y)).toEqual([9, 6, 0])
    expect(Array.from(ds.y)).toEqual([0, 3, 9])
  })

  it('parseAttack rejects unknown names', () => {
    expect(parseAttack('scale')).toBe('scale')
    expect(() => parseAttack('bribe')).toThrow(expect.objectContaining({ name: 'InvalidConfigError' }))
  })

  it('robust strategies resist a scaled byzantine client that FedAvg follows', async () => {
    const run = async (strategy: string, attack: AttackName): Promise<number> => {
      const runtime = fakeRuntime()
      const clients = [1, 1, 1, 1, 1, 1, 1].map((v, i) => ({ id: `c${i}`, data: dataset(10, v), attack: i === 0 ? attack : undefined }))
      const { weights } = await runFederated({
        grid: createMemoryGrid({ runtime, clients, attackOptions: { scale: 100 } }),
        strategy: createStrategy(strategy, { beta: 0.2, f: 1 }),
        runtime,
        baseModelId: 'base',
        initialWeights: constant(0),
        rounds: 1,
        fraction: 1,
        evaluate: async () => ({ loss: 0, accuracy: 0 })
      })
      return flat(weights)[0]
    }
    // honest clients move 0 -> 0.5; the attacker sends 0 + 100 * 0.5 = 50
    expect(await run('fedavg', 'scale')).toBeGreaterThan(5)
    for (const robust of ['fedmedian', 'trimmed-mean', 'krum']) expect(await run(robust, 'scale')).toBeCloseTo(0.5, 5)
  })
})
