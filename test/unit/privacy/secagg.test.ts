import { describe, expect, it } from 'vitest'
import { createRng } from '../../../src/federated/rng.js'
import { seededRandom } from '../../../src/federated/privacy/secagg/crypto.js'
import { SecAggClient } from '../../../src/federated/privacy/secagg/client.js'
import { encodeWeighted, meanErrorBound } from '../../../src/federated/privacy/secagg/fixed-point.js'
import { defaultDegree, neighbourhoods } from '../../../src/federated/privacy/secagg/graph.js'
import { runSecAggRound, secAggConfig, seededClientRandom } from '../../../src/federated/privacy/secagg/round.js'
import { combine, split } from '../../../src/federated/privacy/secagg/shamir.js'
import type { SecAggInput } from '../../../src/federated/privacy/secagg/round.js'

const errorName = (f: () => unknown): string => { try { f(); return 'none' } catch (err: any) { return err.name } }

function inputs (n: number, d: number, seed: number): SecAggInput[] {
  const rng = createRng(seed)
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    x: Float32Array.from({ length: d }, () => (rng.next() * 2 - 1) * 0.5),
    weight: 50 + rng.int(550)
  }))
}

/** Float64 weighted mean: what plain FedAvg computes. */
function plainMean (xs: readonly SecAggInput[]): Float64Array {
  const out = new Float64Array(xs[0].x.length)
  const total = xs.reduce((n, i) => n + i.weight, 0)
  for (const i of xs) for (let j = 0; j < out.length; j++) out[j] += i.weight * i.x[j] / total
  return out
}

function maxDiff (a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

function correlation (a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ma = 0; let mb = 0
  for (let i = 0; i < a.length; i++) { ma += a[i] / a.length; mb += b[i] / b.length }
  let sab = 0; let saa = 0; let sbb = 0
  for (let i = 0; i < a.length; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) ** 2; sbb += (b[i] - mb) ** 2 }
  return sab / Math.sqrt(saa * sbb)
}

describe('Shamir sharing over GF(2^521 - 1)', () => {
  it('any t shares recover the secret; t - 1 do not', () => {
    const random = seededRandom(1)
    const secret = (1n << 255n) + 12345n
    const shares = split(secret, 3, [1, 2, 3, 4, 5], random)
    expect(combine([shares[0], shares[2], shares[4]])).toBe(secret)
    expect(combine([shares[4], shares[1], shares[3]])).toBe(secret)
    expect(combine([shares[0], shares[1]])).not.toBe(secret)
  })
})

describe('SecAgg+ neighbourhoods', () => {
  it('are symmetric, of degree 2 ceil(log2 n), and complete when asked', () => {
    expect(defaultDegree(10)).toBe(8)
    expect(defaultDegree(100)).toBe(14)
    const ids = Array.from({ length: 100 }, (_, i) => i + 1)
    const g = neighbourhoods(ids, 14, 3)
    for (const [u, vs] of g) {
      expect(vs.length).toBe(14)
      for (const v of vs) expect(g.get(v)).toContain(u)
    }
    expect(neighbourhoods([1, 2, 3, 4], 3, 0).get(1)).toEqual([2, 3, 4])
  })
})

describe('secure aggregation round', () => {
  const d = 2000

  it('equals plain weighted FedAvg within the fixed-point bound', () => {
    const xs = inputs(10, d, 1)
    const config = secAggConfig(xs.map((i) => i.id), d)
    const r = runSecAggRound(config, xs, { random: seededClientRandom(1) })
    expect(r.survivors).toHaveLength(10)
    expect(r.totalWeight).toBe(xs.reduce((n, i) => n + i.weight, 0))
    const bound = meanErrorBound(config, 10, r.totalWeight)
    expect(bound).toBeLessThan(1e-5)
    expect(maxDiff(r.mean, plainMean(xs))).toBeLessThanOrEqual(bound + 1e-7)
  })

  it('10 clients, 3 dropping after key sharing: the sum of the 7 survivors', () => {
    const xs = inputs(10, d, 2)
    const config = secAggConfig(xs.map((i) => i.id), d)
    const r = runSecAggRound(config, xs, { dropAfterShares: new Set([2, 5, 9]), random: seededClientRandom(2) })
    expect(r.dropped).toEqual([2, 5, 9])
    expect(r.survivors).toEqual([1, 3, 4, 6, 7, 8, 10])
    const survivors = xs.filter((i) => ![2, 5, 9].includes(i.id))
    expect(r.totalWeight).toBe(survivors.reduce((n, i) => n + i.weight, 0))
    expect(maxDiff(r.mean, plainMean(survivors))).toBeLessThanOrEqual(meanErrorBound(config, 7, r.totalWeight) + 1e-7)
  })

  it('also completes on the complete graph and when clients drop before unmasking', () => {
    const xs = inputs(6, 200, 3)
    const config = secAggConfig(xs.map((i) => i.id), 200, { degree: 5, threshold: 3 })
    const r = runSecAggRound(config, xs, { dropAfterShares: new Set([6]), dropAfterMasking: new Set([1]), random: seededClientRandom(3) })
    expect(r.survivors).toEqual([1, 2, 3, 4, 5])
    expect(maxDiff(r.mean, plainMean(xs.slice(0, 5)))).toBeLessThanOrEqual(meanErrorBound(config, 5, r.totalWeight) + 1e-7)
  })

  it('the server never holds an unmasked update: each received vector is uncorrelated with the true one', () => {
    const xs = inputs(10, 5000, 4)
    const config = secAggConfig(xs.map((i) => i.id), 5000)
    const r = runSecAggRound(config, xs, { random: seededClientRandom(4) })
    for (const i of xs) {
      const received = r.server.masked.get(i.id) as Uint32Array
      const truth = encodeWeighted(i.x, i.weight, config)
      const signed = Array.from(received.subarray(0, 5000), (v) => v | 0)
      expect(Math.abs(correlation(signed, Array.from(truth.subarray(0, 5000), (v) => v | 0)))).toBeLessThan(0.05)
      expect(Math.abs(correlation(signed, i.x))).toBeLessThan(0.05)
      expect(received[5000]).not.toBe(i.weight)
    }
  })

  it('fails with SecAggThresholdError when too few clients are left to recover the masks', () => {
    const xs = inputs(10, 50, 5)
    const config = secAggConfig(xs.map((i) => i.id), 50)
    expect(errorName(() => runSecAggRound(config, xs, { dropAfterShares: new Set([1, 2, 3, 4, 5, 6]), random: seededClientRandom(5) }))).toBe('SecAggThresholdError')
  })

  it('a client refuses steps out of order and a request that names a client both survivor and dropped', () => {
    const config = secAggConfig([1, 2, 3], 4, { degree: 2, threshold: 2 })
    const c = new SecAggClient(1, config, seededRandom(9))
    expect(errorName(() => c.unmask({ type: 'unmask-request', survivors: [1, 2, 3], dropped: [] }))).toBe('ProtocolError')
    const xs = inputs(3, 4, 6)
    const clients = xs.map((i) => new SecAggClient(i.id, config, seededRandom(i.id)))
    const ads = clients.map((k) => k.advertise())
    const keys = ads.map((a) => ({ id: a.from, cPk: a.cPk, sPk: a.sPk }))
    const shares = clients.map((k) => k.shareKeys({ type: 'keys', to: k.id, keys: keys.filter((x) => x.id !== k.id) }))
    const inbox = { type: 'inbox' as const, to: 1, shares: shares.filter((s) => s.from !== 1).map((s) => ({ from: s.from, ciphertext: s.shares.find((x) => x.to === 1)!.ciphertext })) }
    clients[0].maskInput(inbox, xs[0].x, xs[0].weight)
    expect(errorName(() => clients[0].unmask({ type: 'unmask-request', survivors: [1, 2, 3], dropped: [2] }))).toBe('ProtocolError')
  })
})
