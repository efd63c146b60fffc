/**
 * Int8 inside the mask ring (`src/federated/privacy/secagg/ring.ts`): the
 * ring is just wide enough, packing round-trips, and a secure round of
 * quantized updates, with dropouts, gives the mean of the survivors within
 * the stated bound: always within Δ = bound/127, unbiased, and within
 * Hoeffding's Δ·sqrt(ln(2/δ)/(2s)) but for a fraction δ of the values.
 */
import { describe, expect, it } from 'vitest'
import { createRng } from '../../../src/federated/rng.js'
import { int8MeanErrorBound, int8RingBits, int8Step, packBits, quantizeInt8, unpackBits } from '../../../src/federated/privacy/secagg/ring.js'
import { runSecAggRound, secAggConfig, seededClientRandom } from '../../../src/federated/privacy/secagg/round.js'
import { seededRandom } from '../../../src/federated/privacy/secagg/crypto.js'
import { messageBytes } from '../../../src/federated/privacy/secagg/messages.js'
import { maskedRecord, maskedVector } from '../../../src/federated/privacy/secagg/vector.js'

describe('int8 in the mask ring', () => {
  it('sizes the ring 8 + ceil(log2 m) bits, enough for the sum of m levels of +-127', () => {
    expect(int8RingBits(2)).toBe(9)
    expect(int8RingBits(10)).toBe(12)
    expect(int8RingBits(1024)).toBe(18)
    for (const m of [2, 3, 10, 100, 1024]) expect(127 * m).toBeLessThan(2 ** (int8RingBits(m) - 1))
  })

  it('packs and unpacks b-bit values, and refuses a packing with stray bits', () => {
    const rng = createRng(1)
    for (const bits of [9, 12, 17, 31, 32]) {
      const values = Uint32Array.from({ length: 37 }, () => Math.floor(rng.next() * 2 ** bits))
      const words = packBits(values, bits)
      expect(words.length).toBe(Math.ceil(37 * bits / 32))
      expect(Array.from(unpackBits(words, bits, 37))).toEqual(Array.from(values))
      expect(Array.from(maskedVector(maskedRecord(values, bits), 37, bits))).toEqual(Array.from(values))
    }
    const words = packBits(Uint32Array.from([1, 2, 3]), 12)
    words[1] |= 0x8000_0000
    expect(() => unpackBits(words, 12, 3)).toThrow(expect.objectContaining({ name: 'InvalidUpdateError' }))
  })

  it('quantizes without bias onto levels of bound/127', () => {
    const x = Float64Array.from([0.3, -0.77, 1, -1, 0.004, 5])
    const trials = 4000
    const sums = new Float64Array(x.length)
    const random = seededRandom(9)
    for (let t = 0; t < trials; t++) {
      const q = quantizeInt8(x, 1, random)
      expect(q[x.length]).toBe(1)
      for (let i = 0; i < x.length; i++) {
        const level = q[i] | 0
        expect(Math.abs(level)).toBeLessThanOrEqual(127)
        expect(Math.abs(level * int8Step(1) - Math.min(1, x[i]))).toBeLessThan(int8Step(1))
        sums[i] += level * int8Step(1)
      }
    }
    // standard error of the mean over 4000 trials: at most (1/127)/(2 sqrt 4000) = 6.2e-5; 5 of them
    x.forEach((v, i) => { expect(Math.abs(sums[i] / trials - Math.min(1, v))).toBeLessThan(3.2e-4) })
  })

  it('a round with 3 of 10 clients dropped after sharing gives the survivors\' mean within the bound, at b bits per value', () => {
    const rng = createRng(4)
    const length = 2000
    const inputs = Array.from({ length: 10 }, (_, i) => ({ id: i + 1, x: Float32Array.from({ length }, () => 0.9 * (2 * rng.next() - 1)), weight: 1 }))
    const config = secAggConfig(inputs.map((i) => i.id), length, { int8: true, threshold: 3 })
    expect(config.ringBits).toBe(12)
    const dropped = new Set([2, 5, 9])
    const r = runSecAggRound(config, inputs, { dropAfterShares: dropped, random: seededClientRandom(4) })
    expect(r.survivors).toEqual([1, 3, 4, 6, 7, 8, 10])
    expect(r.totalWeight).toBe(7)
    const survivors = inputs.filter((i) => !dropped.has(i.id))
    const delta = 1e-3
    const hoeffding = int8MeanErrorBound(1, 7, delta)
    let beyond = 0
    let sumError = 0
    for (let j = 0; j < length; j++) {
      const truth = survivors.reduce((n, i) => n + i.x[j], 0) / 7
      const error = r.mean[j] - truth
      expect(Math.abs(error)).toBeLessThan(int8Step(1) + 1e-6)
      if (Math.abs(error) > hoeffding + 1e-6) beyond++
      sumError += error
    }
    // at most a fraction delta beyond Hoeffding's bound (expected 2 of 2000; allow 5x), and no bias
    expect(beyond).toBeLessThanOrEqual(10)
    expect(Math.abs(sumError / length)).toBeLessThan(int8Step(1) / 20)
    // the masked inputs are 12 bits: 32/12 fewer bytes than the 32-bit ring
    expect(messageBytes({ type: 'masked', from: 1, vector: new Uint32Array(length + 1) }, 12)).toBe(4 + 4 * Math.ceil((length + 1) * 12 / 32))
  })

  it('each masked input is uniform in the ring, whatever the update', () => {
    const length = 4000
    const inputs = [1, 2, 3].map((id) => ({ id, x: new Float32Array(length).fill(id === 1 ? 1 : 0), weight: 1 }))
    const r = runSecAggRound(secAggConfig([1, 2, 3], length, { int8: true }), inputs, { random: seededClientRandom(2) })
    const v = r.server.masked.get(1) as Uint32Array
    // 3 clients: a 10-bit ring; a constant update of level 127 masked has the mean of uniform values, 511.5 (sd of the mean 4.7)
    expect(Math.max(...v)).toBeLessThan(2 ** 10)
    expect(Math.abs(v.reduce((n, w) => n + w, 0) / v.length - 511.5)).toBeLessThan(30)
  })
})
