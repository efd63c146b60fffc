import { describe, expect, it } from 'vitest'
import { coordinateMedian, krumScores, multiKrumSelect, pairwiseSquaredDistances, trimmedMean, weightedAverage } from '../../../src/federated/strategies/aggregate.js'
import { createStrategy } from '../../../src/federated/strategies/create-strategy.js'
import { createRng } from '../../../src/federated/rng.js'
import { constant, flat, record, update } from './helpers.js'
import type { RoundContext } from '../../../src/federated/strategy.js'

const f32 = (...v: number[]): Float32Array => Float32Array.from(v)

function ctx (): RoundContext {
  return { round: 1, attempt: 1, global: constant(0), clients: [], sampleSize: 0, rng: createRng(1), seed: 1 }
}

describe('weightedAverage (FedAvg)', () => {
  it('weights each update by its example count', () => {
    // (1*10 + 4*30) / 40 = 3.25 ; (2*10 + 0*30) / 40 = 0.5
    const out = weightedAverage([f32(1, 2), f32(4, 0)], [10, 30])
    expect(Array.from(out)).toEqual([3.25, 0.5])
  })

  it('is exact on a hand-made three-client FedAvg round', () => {
    const strategy = createStrategy('fedavg')
    const results = [
      update('a', record([1, 2, 3, 4, 5, 6]), 1),
      update('b', record([3, 2, 1, 0, -1, -2]), 2),
      update('c', record([0, 0, 0, 0, 0, 12]), 1)
    ]
    // weights 1/4, 2/4, 1/4
    const expected = [7 / 4, 6 / 4, 5 / 4, 4 / 4, 3 / 4, (6 - 4 + 12) / 4]
    expect(flat(strategy.aggregate(ctx(), results, []))).toEqual(expected)
  })

  it('rejects a zero total weight', () => {
    expect(() => weightedAverage([f32(1)], [0])).toThrow(expect.objectContaining({ name: 'InvalidUpdateError' }))
  })
})

describe('coordinateMedian', () => {
  it('takes the middle value per coordinate and ignores a planted outlier', () => {
    const out = coordinateMedian([f32(1, 10), f32(2, 20), f32(1e6, -1e6), f32(3, 30), f32(2.5, 25)])
    expect(Array.from(out)).toEqual([2.5, 20])
  })

  it('averages the two middle values for an even count', () => {
    expect(Array.from(coordinateMedian([f32(1), f32(2), f32(4), f32(100)]))).toEqual([3])
  })

  it('handles many updates (native sort path)', () => {
    const layers = Array.from({ length: 41 }, (_, i) => f32(i))
    expect(Array.from(coordinateMedian(layers))).toEqual([20])
  })
})

describe('trimmedMean', () => {
  it('cuts beta*n from each end', () => {
    // n = 5, beta = 0.2 -> cut 1 each side: mean of 2, 3, 4
    const out = trimmedMean([f32(2), f32(-1000), f32(3), f32(4), f32(1000)], 0.2)
    expect(Array.from(out)).toEqual([3])
  })

  it('excludes planted outliers through the strategy', () => {
    const honest = [1, 1.1, 0.9, 1.05, 0.95, 1, 1, 1].map((v, i) => update(`h${i}`, constant(v)))
    const evil = [update('e1', constant(500)), update('e2', constant(-500))]
    const out = flat(createStrategy('trimmed-mean', { beta: 0.2 }).aggregate(ctx(), [...honest, ...evil], []))
    expect(out.every((v) => v > 0.9 && v < 1.1)).toBe(true)
  })

  it('rejects beta outside [0, 0.5)', () => {
    expect(() => trimmedMean([f32(1)], 0.5)).toThrow(expect.objectContaining({ name: 'InvalidUpdateError' }))
  })
})

describe('Krum / Multi-Krum', () => {
  const layersOf = (v: number[]): Float32Array[] => [Float32Array.from(v)]

  it('computes pairwise squared distances over all layers', () => {
    const d = pairwiseSquaredDistances([[f32(0), f32(0)], [f32(3), f32(4)]])
    expect(Array.from(d)).toEqual([0, 25, 25, 0])
  })

  it('scores by the n - f - 2 nearest neighbours', () => {
    // points 0, 1, 3, 10 on a line; f = 1 -> 1 neighbour
    const d = pairwiseSquaredDistances([0, 1, 3, 10].map((v) => layersOf([v])))
    expect(Array.from(krumScores(d, 4, 1))).toEqual([1, 1, 4, 49])
  })

  it('never selects planted outliers', () => {
    const honest = [[1, 1], [1.1, 0.9], [0.9, 1.1], [1.05, 1], [1, 0.95], [0.95, 1.05]].map(layersOf)
    const outliers = [[50, -50], [-40, 60]].map(layersOf)
    const all = [...outliers.slice(0, 1), ...honest, ...outliers.slice(1)]
    const chosen = multiKrumSelect(all, 2, 4)
    expect(chosen).toHaveLength(4)
    expect(chosen).not.toContain(0)
    expect(chosen).not.toContain(all.length - 1)
  })

  it('the krum strategy returns an honest update, not a blend with the outlier', () => {
    const results = [update('a', constant(1)), update('b', constant(1.2)), update('c', constant(0.8)), update('d', constant(1.1)), update('evil', constant(-100))]
    const out = flat(createStrategy('krum', { f: 1 }).aggregate(ctx(), results, []))
    expect(out.every((v) => v >= 0.8 && v <= 1.2)).toBe(true)
  })

  it('rejects n - f - 2 < 1', () => {
    expect(() => krumScores(new Float64Array(9), 3, 1)).toThrow(expect.objectContaining({ name: 'InvalidUpdateError' }))
  })
})

describe('createStrategy', () => {
  it('knows every name and rejects others', () => {
    for (const name of ['fedavg', 'fedsgd', 'fedmedian', 'trimmed-mean', 'krum']) expect(createStrategy(name).name).toBe(name)
    expect(() => createStrategy('fedfoo')).toThrow(expect.objectContaining({ name: 'InvalidConfigError' }))
  })

  it('FedSGD asks for one full-batch epoch', () => {
    const c = { ...ctx(), clients: [{ id: 'x' }, { id: 'y' }], sampleSize: 2 }
    const ins = createStrategy('fedsgd', { epochs: 5, batchSize: 32, learningRate: 0.3 }).configureRound(c)
    expect(ins.map((i) => i.config)).toEqual([
      expect.objectContaining({ epochs: 1, batchSize: 0, learningRate: 0.3 }),
      expect.objectContaining({ epochs: 1, batchSize: 0, learningRate: 0.3 })
    ])
  })

  it('samples idle clients before busy ones and passes FedProx mu', () => {
    const c = { ...ctx(), clients: [{ id: 'busy', load: 'training' as const }, { id: 'a', load: 'idle' as const }, { id: 'b' }], sampleSize: 2 }
    const ins = createStrategy('fedavg', { proximalMu: 0.01 }).configureRound(c)
    expect(ins.map((i) => i.clientId).sort()).toEqual(['a', 'b'])
    expect(ins[0].config.proximalMu).toBe(0.01)
  })
})
