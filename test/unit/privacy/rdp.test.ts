import { describe, expect, it } from 'vitest'
import { RdpAccountant } from '../../../src/federated/privacy/accountant.js'
import { logErfc } from '../../../src/federated/privacy/log-math.js'
import { computeRdp, epsilonFromRdp, sampledGaussianRdp } from '../../../src/federated/privacy/rdp.js'

/** Relative difference. */
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b)

/** Opacus's default order grid (RDPAccountant.DEFAULT_ALPHAS): 1.1..10.9 by 0.1, then 12..63. */
const OPACUS_ALPHAS = [...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10), ...Array.from({ length: 52 }, (_, i) => 12 + i)]

describe('log-space helpers', () => {
  it('logErfc matches erfc where it is representable and stays finite beyond', () => {
    // erfc values from tables (Abramowitz and Stegun 7.1)
    expect(rel(Math.exp(logErfc(0.5)), 0.4795001221869535)).toBeLessThan(1e-12)
    expect(rel(Math.exp(logErfc(2)), 0.004677734981047266)).toBeLessThan(1e-11)
    expect(rel(Math.exp(logErfc(3)), 2.209049699858544e-5)).toBeLessThan(1e-11)
    expect(rel(Math.exp(logErfc(-1)), 1.8427007929497148)).toBeLessThan(1e-12)
    // erfc(30) ~ exp(-900)/(30 sqrt(pi)): log is about -904.0
    expect(logErfc(30)).toBeCloseTo(-900 - Math.log(30 * Math.sqrt(Math.PI)) - 1 / 1800, 4)
  })
})

describe('RDP of the sampled Gaussian mechanism', () => {
  it('without subsampling is the closed form alpha / (2 sigma^2)', () => {
    expect(sampledGaussianRdp(1, 2, 8)).toBe(1)
    // the binomial sum tends to the closed form as q -> 1
    expect(rel(sampledGaussianRdp(1 - 1e-9, 2, 8), 1)).toBeLessThan(1e-6)
  })

  it('without subsampling, epsilon matches the closed form rho + 2 sqrt(rho log(1/delta)) within 1 %', () => {
    // Gaussian mechanism composed T times has RDP alpha*rho with rho = T/(2 sigma^2)
    // (Mironov 2017, Prop. 7); with Prop. 3's conversion the minimum over alpha is
    // rho + 2 sqrt(rho log(1/delta)) (at alpha = 1 + sqrt(log(1/delta)/rho)).
    for (const [sigma, steps, delta] of [[1, 1, 1e-5], [4, 100, 1e-5], [1.1, 10, 1e-6]]) {
      const rho = steps / (2 * sigma * sigma)
      const closed = rho + 2 * Math.sqrt(rho * Math.log(1 / delta))
      const orders = Array.from({ length: 5000 }, (_, i) => 1.01 + i * 0.01)
      const { epsilon } = epsilonFromRdp(orders, computeRdp(1, sigma, steps, orders), delta, 'mironov2017')
      expect(rel(epsilon, closed)).toBeLessThan(0.01)
    }
  })

  it('matches Opacus\'s published figure: q=0.04, sigma=1.5, 2250 steps, delta=1e-5 -> epsilon 7.32911117143', () => {
    // Source: pytorch/opacus, opacus/tests/accountants_test.py, test_rdp_accountant
    // (noise_multiplier 1.5, sample_rate 0.04, steps int(90/0.04), default alphas, delta 1e-5).
    const acc = new RdpAccountant({ orders: OPACUS_ALPHAS })
    acc.step({ sampleRate: 0.04, noiseMultiplier: 1.5 }, Math.trunc(90 / 0.04))
    expect(rel(acc.spent(1e-5).epsilon, 7.32911117143)).toBeLessThan(0.01)
  })

  it('matches Opacus\'s documented example: [(1e-5, 1.0, 10), (1e-4, 3.0, 4)], orders 2..32, delta=1e-5 -> epsilon 0.336 at order 23', () => {
    // Source: pytorch/opacus, opacus/accountants/analysis/rdp.py, module docstring example
    // (a doctest: `(0.336, 23)`).
    const orders = Array.from({ length: 31 }, (_, i) => i + 2)
    const acc = new RdpAccountant({ orders })
    acc.step({ sampleRate: 1e-5, noiseMultiplier: 1.0 }, 10)
    acc.step({ sampleRate: 1e-4, noiseMultiplier: 3.0 }, 4)
    const spent = acc.spent(1e-5)
    expect(rel(spent.epsilon, 0.336)).toBeLessThan(0.01)
    expect(spent.order).toBe(23)
  })

  it('matches Abadi et al. 2016: q=0.01, sigma=4, T=10000, delta=1e-5 -> epsilon about 1.26', () => {
    // Source: Abadi et al., "Deep Learning with Differential Privacy", CCS 2016, Section 3.1:
    // "with q = 0.01, sigma = 4, delta = 1e-5 and T = 10000, we have epsilon ~ 1.26 using the
    // moments accountant". The moments accountant's tail bound is Mironov's Prop. 3 conversion.
    const acc = new RdpAccountant({ conversion: 'mironov2017' })
    acc.step({ sampleRate: 0.01, noiseMultiplier: 4 }, 10_000)
    expect(rel(acc.spent(1e-5).epsilon, 1.26)).toBeLessThan(0.01)
  })

  it('grows with steps, shrinks with noise, and peek does not account', () => {
    const acc = new RdpAccountant()
    const step = { sampleRate: 0.1, noiseMultiplier: 1.2 }
    acc.step(step, 10)
    const e10 = acc.spent(1e-5).epsilon
    const peeked = acc.peek(step, 1e-5, 10)
    expect(acc.spent(1e-5).epsilon).toBe(e10)
    acc.step(step, 10)
    expect(acc.spent(1e-5).epsilon).toBeCloseTo(peeked, 12)
    expect(peeked).toBeGreaterThan(e10)
    const quieter = new RdpAccountant()
    quieter.step({ sampleRate: 0.1, noiseMultiplier: 2.4 }, 10)
    expect(quieter.spent(1e-5).epsilon).toBeLessThan(e10)
  })
})
