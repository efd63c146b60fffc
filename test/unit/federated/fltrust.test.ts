import { describe, expect, it } from 'vitest'
import { createStrategy } from '../../../src/federated/strategies/create-strategy.js'
import { flTrust, flTrustWeights, rootEpochs } from '../../../src/federated/strategies/fltrust.js'
import { createRng } from '../../../src/federated/rng.js'
import { constant, flat, record, update } from './helpers.js'
import type { RoundContext } from '../../../src/federated/strategy.js'
import type { WeightRecord } from '../../../src/model/types.js'

const global = constant(0)

function ctx (): RoundContext {
  return { round: 1, attempt: 1, global, clients: [], sampleSize: 4, rng: createRng(1), seed: 1 }
}

/** A root update that moves the model to `root`, recording the example count it was told. */
function rootTo (root: WeightRecord, told: number[] = []): { rootUpdate: (c: RoundContext, t: unknown, n: number) => Promise<WeightRecord>, told: number[] } {
  return { rootUpdate: async (_c, _t, n) => { told.push(n); return root }, told }
}

const layers = (r: WeightRecord): Float32Array[] => r.map(t => t.data as Float32Array)

describe('FLTrust weights (pure)', () => {
  const root = layers(record([1, 1, 1, 1, 0, 0]))
  const floats = [true, true]

  it('gives a reversed update zero trust and an aligned one its cosine', () => {
    const aligned = layers(record([1, 1, 1, 0, 0, 0]))
    const reversed = layers(record([-1, -1, -1, -1, 0, 0]))
    const { scores } = flTrustWeights([aligned, reversed], root, floats)
    expect(scores[0]).toBeCloseTo(3 / (Math.sqrt(3) * 2), 6)
    expect(scores[1]).toBe(0)
  })

  it('clips large updates to the root norm and leaves small ones alone', () => {
    const boosted = layers(record([10, 10, 10, 10, 0, 0]))
    const small = layers(record([0.5, 0, 0, 0, 0, 0]))
    const { scales } = flTrustWeights([boosted, small], root, floats)
    expect(scales[0]).toBeCloseTo(2 / 20, 6)
    expect(scales[1]).toBe(1)
  })

  it('sign weighting trusts every aligned update by its example count', () => {
    const a = layers(record([1, 0, 0, 0, 0, 0]))
    const b = layers(record([0, 1, 1, 1, 0, 0]))
    const orthogonal = layers(record([1, -1, 0, 0, 0, 0]))
    const { scores } = flTrustWeights([a, b, orthogonal], root, floats, 'sign', [10, 30, 50])
    expect(scores).toEqual([10, 30, 0])
  })

  it('the root update takes about as many steps as the median client', () => {
    expect(rootEpochs(1, 400, 100)).toBe(4)
    expect(rootEpochs(2, 400, 100)).toBe(8)
    expect(rootEpochs(1, 30, 100)).toBe(1)
  })

  it('an all-zero update or root scores 0 instead of NaN', () => {
    const zero = layers(constant(0))
    expect(flTrustWeights([zero], root, floats).scores).toEqual([0])
    expect(flTrustWeights([root], zero, floats).scores).toEqual([0])
  })
})

describe('FLTrust strategy', () => {
  it('follows the trusted updates and ignores a sign-flipped one', async () => {
    const { rootUpdate, told } = rootTo(record([1, 1, 1, 1, 1, 1]))
    const strategy = flTrust({ rootUpdate, trustWeighting: 'sign' })
    const honest = [update('h1', record([1, 1, 1, 1, 1, 1]), 10), update('h2', record([1, 1, 1, 1, 1, 1]), 30)]
    const flipped = update('evil', record([-5, -5, -5, -5, -5, -5]), 1000)
    const out = await strategy.aggregate(ctx(), [...honest, flipped], [])
    expect(flat(out)).toEqual([1, 1, 1, 1, 1, 1])
    expect(told).toEqual([30])
  })

  it('cosine weighting gives the better-aligned update more say', async () => {
    const { rootUpdate } = rootTo(record([1, 1, 1, 1, 0, 0]))
    const strategy = flTrust({ rootUpdate })
    const out = flat(await strategy.aggregate(ctx(), [update('a', record([1, 1, 1, 1, 0, 0])), update('b', record([1, 0, 0, 0, 0, 0]))], []))
    // a: cos 1, scale 1; b: cos 0.5, scale 1 -> (1*a + 0.5*b) / 1.5
    expect(out[0]).toBeCloseTo(1, 6)
    expect(out[1]).toBeCloseTo(2 / 3, 6)
  })

  it('keeps the global model when nothing is trusted', async () => {
    const { rootUpdate } = rootTo(record([1, 1, 1, 1, 1, 1]))
    const out = await flTrust({ rootUpdate }).aggregate(ctx(), [update('evil', record([-1, -1, -1, -1, -1, -1]))], [])
    expect(flat(out)).toEqual(flat(global))
  })

  it('needs a root data set and a known weighting', () => {
    expect(() => createStrategy('fltrust')).toThrow(/root data set/)
    expect(() => flTrust({ rootUpdate: rootTo(global).rootUpdate, trustWeighting: 'x' as any })).toThrow(/cosine or sign/)
  })
})
