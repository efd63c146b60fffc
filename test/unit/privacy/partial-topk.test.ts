/**
 * Top-k with partial participation (issue #15): the stale-residual discount
 * on clients and the per-coordinate averaging over senders at the coordinator.
 */
import { describe, expect, it } from 'vitest'
import { densify, parseCompression, parseCompressionSpec } from '../../../src/federated/privacy/compression.js'
import { TopKState, stalenessDiscount } from '../../../src/federated/privacy/dgc.js'
import { senderAverageFolder, withSenderAveraging, withUplinkAggregation } from '../../../src/federated/privacy/sender-average.js'
import { withDp } from '../../../src/federated/privacy/dp-strategy.js'
import { uplinkAnnounceFields, uplinkFromAnnounce } from '../../../src/federated/privacy/uplink-wire.js'
import { roundCompression } from '../../../src/federated/privacy/uplink.js'
import { fedAvg } from '../../../src/federated/strategies/fedavg.js'
import { parseRunSpec } from '../../../src/federated/mesh/runs.js'
import { createStrategy } from '../../../src/federated/strategies/create-strategy.js'
import { weightedSumFolder } from '../../../src/federated/streaming.js'
import { createRng } from '../../../src/federated/rng.js'
import { constant, flat, record, update } from '../federated/helpers.js'

const name = (f: () => unknown): string => { try { f(); return 'none' } catch (err: any) { return err.name } }

describe('stale-residual discount', () => {
  it('is (1 + τ)^−a for τ missed rounds, 1 without a miss or with a = 0', () => {
    expect(stalenessDiscount(5, 4, 1)).toBe(1)
    expect(stalenessDiscount(5, 5, 1)).toBe(1)
    expect(stalenessDiscount(11, 1, 1)).toBeCloseTo(0.1, 12)
    expect(stalenessDiscount(11, 1, 0.5)).toBeCloseTo(1 / Math.sqrt(10), 12)
    expect(stalenessDiscount(11, 1, 0)).toBe(1)
  })

  it('loses nothing it does not say: sent + residual = the sum of the discounted deltas', () => {
    const ef = new TopKState()
    const rng = createRng(3)
    const rounds = [1, 2, 5, 6, 12]
    const expected = new Float64Array(50)
    const sentTotal = new Float64Array(50)
    let last: number | undefined
    for (const round of rounds) {
      const f = last === undefined ? 1 : stalenessDiscount(round, last, 1)
      // what the client should hold: the unsent part of everything so far, discounted; check it through sent + residual
      expected.forEach((v, i) => { expected[i] = f * (v - sentTotal[i]) + sentTotal[i] })
      const d = Float32Array.from({ length: 50 }, () => rng.normal())
      d.forEach((v, i) => { expected[i] += v })
      const [sent] = ef.sparsify([d], 0.1, { momentum: 0, clipNorm: 0, staleness: 1, round })
      expect(sent.indices.length).toBe(5)
      densify(sent).forEach((v, i) => { sentTotal[i] += v })
      last = round
    }
    const [flush] = ef.sparsify([new Float32Array(50)], 1, { momentum: 0, clipNorm: 0, staleness: 1, round: 13 })
    const residual = densify(flush)
    residual.forEach((v, i) => { expect(sentTotal[i] + v).toBeCloseTo(expected[i], 4) })
  })

  it('discounts the residual by 1/(1 + τ) on a return after τ missed rounds, and not on a retry of the same round', () => {
    const ef = new TopKState()
    ef.sparsify([Float32Array.from([4, 1])], 0.5, { momentum: 0, clipNorm: 0, staleness: 1, round: 1 })
    // residual [0, 1]; round 5 missed 3 rounds: 1 / 4
    const [again] = ef.sparsify([new Float32Array(2)], 1, { momentum: 0, clipNorm: 0, staleness: 1, round: 5 })
    expect(Array.from(densify(again))).toEqual([0, 0.25])
    const retry = new TopKState()
    retry.sparsify([Float32Array.from([4, 1])], 0.5, { momentum: 0, clipNorm: 0, staleness: 1, round: 3 })
    const [same] = retry.sparsify([new Float32Array(2)], 1, { momentum: 0, clipNorm: 0, staleness: 1, round: 3 })
    expect(Array.from(densify(same))).toEqual([0, 1])
  })
})

describe('averaging over senders', () => {
  const global = constant(1)

  it('averages each coordinate over the clients that sent it, weighted by examples, and keeps unsent ones', () => {
    const folder = senderAverageFolder(global)
    folder.add(update('a', record([1.5, 1, 1, 1, 3, 1]), 10))
    folder.add(update('b', record([1, 1, 2, 1, 1, 1]), 30))
    folder.add(update('c', record([2.5, 1, 1, 1, 1, 1]), 20))
    // w[0]: (10·0.5 + 20·1.5) / 30; w[2]: b alone; b[0]: a alone; the rest unsent
    expect(flat(folder.result())).toEqual([1 + 35 / 30, 1, 2, 1, 3, 1].map(Math.fround))
  })

  it('is FedAvg when every client sends every coordinate', () => {
    const updates = [update('a', record([2, 3, 4, 5, 6, 7]), 10), update('b', record([0, -1, -2, 3, 9, 0.5]), 30)]
    const senders = senderAverageFolder(global)
    const fedavg = weightedSumFolder(global)
    for (const u of updates) { senders.add(u); fedavg.add(u) }
    flat(senders.result()).forEach((v, i) => { expect(v).toBeCloseTo(flat(fedavg.result())[i], 5) })
  })

  it('refuses an empty round with InvalidUpdateError', () => {
    expect(name(() => senderAverageFolder(global).result())).toBe('InvalidUpdateError')
  })

  it('wraps plain FedAvg only: DP and other strategies are refused with InvalidConfigError', () => {
    expect(withSenderAveraging(fedAvg()).name).toBe('fedavg')
    expect(name(() => withSenderAveraging(createStrategy('fedmedian', {})))).toBe('InvalidConfigError')
    expect(name(() => withSenderAveraging(withDp(fedAvg(), { mode: 'central', clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 })))).toBe('InvalidConfigError')
    const inner = fedAvg()
    expect(withUplinkAggregation(inner, parseCompression('topk:0.01'))).toBe(inner)
    expect(withUplinkAggregation(inner, undefined)).toBe(inner)
    expect(withUplinkAggregation(inner, parseCompression('topk:0.01', { average: 'senders' }))).not.toBe(inner)
  })
})

describe('options and wire', () => {
  it('parses staleness and average, with defaults that keep DGC as it was', () => {
    expect(parseCompression('topk:0.01')).toMatchObject({ staleness: 0, average: 'all' })
    expect(parseCompressionSpec({ scheme: 'topk', ratio: 0.01, momentum: 0, staleness: 1, average: 'senders' })).toMatchObject({ staleness: 1, average: 'senders' })
    expect(name(() => parseCompressionSpec({ scheme: 'topk', ratio: 0.01, staleness: -1 }))).toBe('InvalidConfigError')
    expect(name(() => parseCompressionSpec({ scheme: 'topk', ratio: 0.01, average: 'some' }))).toBe('InvalidConfigError')
  })

  it('sends topkStaleness in ANNOUNCE only when set, and reads it back with the round', () => {
    const partial = roundCompression(parseCompression('topk:0.01', { momentum: 0, warmupRounds: 0, staleness: 1, average: 'senders' }), 7)
    const fields = uplinkAnnounceFields({ compression: partial })
    expect(fields).toEqual({ compression: 'topk', topkDensity: 0.01, topkStaleness: 1 })
    expect(uplinkFromAnnounce({ ...fields, round: 7 })).toEqual({ compression: partial })
    expect(uplinkAnnounceFields({ compression: roundCompression(parseCompression('topk:0.01'), 7) }).topkStaleness).toBeUndefined()
  })
})

describe('run spec', () => {
  const partial = { scheme: 'topk', ratio: 0.01, momentum: 0, warmupRounds: 0, staleness: 1, average: 'senders' }

  it('takes averaging over senders with plain FedAvg, and refuses it with DP or another strategy (InvalidConfigError)', () => {
    expect(parseRunSpec({ compression: partial }).compression).toMatchObject({ staleness: 1, average: 'senders' })
    expect(name(() => parseRunSpec({ compression: partial, dp: { mode: 'central' } }))).toBe('InvalidConfigError')
    expect(name(() => parseRunSpec({ compression: partial, strategy: 'trimmed-mean' }))).toBe('InvalidConfigError')
    expect(parseRunSpec({ compression: { ...partial, average: 'all' }, dp: { mode: 'local' } }).compression).toMatchObject({ average: 'all' })
  })
})
