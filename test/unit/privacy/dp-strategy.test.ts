import { describe, expect, it } from 'vitest'
import { MemoryCheckpointStore } from '../../../src/federated/checkpoint.js'
import { roundsToCsv } from '../../../src/experiments/csv.js'
import { fedAvg } from '../../../src/federated/strategies/fedavg.js'
import { createMemoryGrid } from '../../../src/federated/simulation/memory-grid.js'
import { createRng } from '../../../src/federated/rng.js'
import { runFederated } from '../../../src/federated/run.js'
import { parseDpOptions } from '../../../src/federated/privacy/dp-options.js'
import { privatizeUpdate, withDp } from '../../../src/federated/privacy/dp-strategy.js'
import { deltaOf, l2Norm } from '../../../src/federated/privacy/delta.js'
import { checkBufferedUpdates, isStreaming } from '../../../src/federated/streaming.js'
import { constant, dataset, fakeRuntime, flat, record, update } from '../federated/helpers.js'
import type { RoundContext } from '../../../src/federated/strategy.js'
import type { WeightRecord } from '../../../src/model/types.js'

function ctx (global: WeightRecord, sampleSize: number, clients = 10): RoundContext {
  return { round: 1, attempt: 1, global, clients: Array.from({ length: clients }, (_, i) => ({ id: `c${i}` })), sampleSize, rng: createRng(1), seed: 3 }
}

const dp = (over: Record<string, unknown>) => parseDpOptions({ mode: 'central', ...over })!

describe('DP-FedAvg, central form', () => {
  it('streams: folding updates one at a time gives the aggregate, and a round of 250 clients is not refused', async () => {
    const s = withDp(fedAvg(), dp({ clipNorm: 1, noiseMultiplier: 0.5 }))
    expect(isStreaming(s)).toBe(true)
    expect(() => { checkBufferedUpdates(s, 250, 200) }).not.toThrow()
    const results = [update('a', constant(10)), update('b', constant(-0.1)), update('c', constant(0.2))]
    const folder = s.fold(ctx(constant(0), 4))
    for (const r of results) folder.add(r)
    const folded = flat(folder.result())
    const aggregated = flat(await withDp(fedAvg(), dp({ clipNorm: 1, noiseMultiplier: 0.5 })).aggregate(ctx(constant(0), 4), results, []))
    folded.forEach((v, i) => { expect(v).toBeCloseTo(aggregated[i], 6) })
  })

  it('without noise and with a loose bound is the unweighted mean of the deltas', async () => {
    const s = withDp(fedAvg(), dp({ clipNorm: 100, noiseMultiplier: 0 }))
    const out = await s.aggregate(ctx(constant(0), 2), [update('a', constant(1), 5), update('b', constant(3), 50)], [])
    expect(flat(out)).toEqual(new Array(6).fill(2))
  })

  it('clips each update to clipNorm before averaging (fixed denominator m)', async () => {
    const s = withDp(fedAvg(), dp({ clipNorm: 1, noiseMultiplier: 0 }))
    // delta of norm sqrt(6 * 100) is scaled to norm 1; the mean over m=2 has norm 0.5
    const out = await s.aggregate(ctx(constant(0), 2), [update('a', constant(10)), update('b', constant(0))], [])
    expect(l2Norm(deltaOf(constant(0), out))).toBeCloseTo(0.5, 6)
  })

  it('adds noise of standard deviation z * S / m, deterministically from the run seed', async () => {
    const big: WeightRecord = [{ name: 'w', shape: [20000], dtype: 'float32', data: new Float32Array(20000) }]
    const s = withDp(fedAvg(), dp({ clipNorm: 2, noiseMultiplier: 1.5 }))
    const results = [update('a', big), update('b', big), update('c', big), update('d', big)]
    const out = await s.aggregate(ctx(big, 4), results, [])
    const values = flat(out)
    const std = Math.sqrt(values.reduce((a, v) => a + v * v, 0) / values.length)
    expect(std).toBeCloseTo(1.5 * 2 / 4, 2)
    const again = await withDp(fedAvg(), dp({ clipNorm: 2, noiseMultiplier: 1.5 })).aggregate(ctx(big, 4), results, [])
    expect(flat(again)).toEqual(values)
  })

  it('reports epsilon after every round, in rounds.csv, and stops before passing the target', async () => {
    const runtime = fakeRuntime()
    const grid = createMemoryGrid({ runtime, clients: Array.from({ length: 10 }, (_, i) => ({ id: `c${i}`, data: dataset(10, 1) })) })
    const strategy = withDp(fedAvg(), dp({ clipNorm: 1, noiseMultiplier: 1.5, targetEpsilon: 3 }))
    const result = await runFederated({
      grid, strategy, runtime, baseModelId: 'base', initialWeights: constant(0), rounds: 50, fraction: 0.3,
      evaluate: async () => ({ loss: 0, accuracy: 0 }), seed: 1
    })
    expect(result.stopReason).toBe('target-epsilon')
    const eps = result.records.map((r) => r.privacy?.epsilon ?? Number.NaN)
    expect(result.records.length).toBeLessThan(50)
    expect(eps.every((e, i) => i === 0 || e > eps[i - 1])).toBe(true)
    expect(result.records.length).toBeGreaterThan(1)
    expect(eps.at(-1)).toBeLessThanOrEqual(3)
    expect(result.records[0].privacy).toMatchObject({ sampleRate: 0.3, noiseMultiplier: 1.5, delta: 1e-5 })
    const csv = roundsToCsv(result.records).split('\n')
    expect(csv[0].endsWith(',epsilon,delta')).toBe(true)
    expect(Number(csv[1].split(',')[8])).toBeCloseTo(eps[0], 5)
  })

  it('accounts restored rounds again when a run resumes from its checkpoint', async () => {
    const runtime = fakeRuntime()
    const grid = createMemoryGrid({ runtime, clients: Array.from({ length: 4 }, (_, i) => ({ id: `c${i}`, data: dataset(10, 1) })) })
    const checkpoint = new MemoryCheckpointStore()
    const base = { grid, runtime, baseModelId: 'base', initialWeights: constant(0), fraction: 0.5, evaluate: async () => ({ loss: 0, accuracy: 0 }), seed: 1, checkpoint }
    const options = dp({ noiseMultiplier: 2 })
    const straight = await runFederated({ ...base, checkpoint: undefined, strategy: withDp(fedAvg(), options), rounds: 4 })
    await runFederated({ ...base, strategy: withDp(fedAvg(), options), rounds: 2 })
    const resumed = await runFederated({ ...base, strategy: withDp(fedAvg(), options), rounds: 4 })
    expect(resumed.records[3].privacy?.epsilon).toBeCloseTo(straight.records[3].privacy?.epsilon ?? 0, 10)
  })
})

describe('DP-FedAvg, local form', () => {
  it('a client clips its delta and adds N(0, (z S)^2)', () => {
    const global = record([0, 0, 0, 0, 0, 0])
    const quiet = privatizeUpdate(global, constant(10), { clipNorm: 1, noiseMultiplier: 0 }, createRng(1))
    expect(l2Norm(deltaOf(global, quiet))).toBeCloseTo(1, 6)
    const noisy = privatizeUpdate(global, constant(10), { clipNorm: 1, noiseMultiplier: 1 }, createRng(1))
    expect(flat(noisy)).not.toEqual(flat(quiet))
  })

  it('the coordinator averages local updates without clipping them again', async () => {
    const s = withDp(fedAvg(), parseDpOptions({ mode: 'local', clipNorm: 1, noiseMultiplier: 1 })!)
    const out = await s.aggregate(ctx(constant(0), 2), [update('a', constant(5)), update('b', constant(7))], [])
    expect(flat(out)).toEqual(new Array(6).fill(6))
    expect(s.privacy?.last()?.epsilon).toBeGreaterThan(0)
  })
})

describe('parseDpOptions', () => {
  it('fills defaults and names the bad field', () => {
    expect(parseDpOptions({ mode: 'local' })).toEqual({ mode: 'local', clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 })
    expect(() => parseDpOptions({ mode: 'both' })).toThrow(/dp.mode/)
    expect(() => parseDpOptions({ clipNorm: -1 })).toThrow(/dp.clipNorm/)
    expect(parseDpOptions(undefined)).toBeUndefined()
  })
})
