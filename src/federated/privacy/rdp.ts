/**
 * Rényi differential privacy of the sampled Gaussian mechanism (Mironov 2017;
 * Mironov, Talwar and Zhang 2019, "Rényi Differential Privacy of the Sampled
 * Gaussian Mechanism", Section 3.3) and its conversion to (ε, δ).
 *
 * One step releases `f(batch) + N(0, σ² Δ²)` where each record (here: each
 * client) joins the batch independently with probability `q` and Δ is the L2
 * sensitivity; `σ` is the noise multiplier. RDP of order α is
 * `log(A_α) / (α - 1)`, with A_α computed as a binomial sum for integer α and
 * as a convergent two-sided series for fractional α. RDP composes by addition.
 */
import { InvalidConfigError } from '../../errors.js'
import { logAdd, logErfc, logSub } from './log-math.js'

/** Terms of the fractional-order series below exp(-30) relative are dropped. */
const SERIES_CUTOFF = -30
/** Hard cap of the fractional-order series (it converges long before). */
const SERIES_MAX_TERMS = 10_000

/** log(A_α) for integer α: a binomial expansion of E[(1 - q + q e^{...})^α]. */
function logAInt (q: number, sigma: number, alpha: number): number {
  let logA = -Infinity
  let logBinom = 0
  const logQ = Math.log(q)
  const log1mQ = Math.log1p(-q)
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) logBinom += Math.log(alpha - i + 1) - Math.log(i)
    const term = logBinom + i * logQ + (alpha - i) * log1mQ + (i * i - i) / (2 * sigma * sigma)
    logA = logAdd(logA, term)
  }
  return logA
}

/** log(A_α) for fractional α: two series split at z0 where the two Gaussians' weighted densities cross. */
function logAFrac (q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity
  let logA1 = -Infinity
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5
  const logQ = Math.log(q)
  const log1mQ = Math.log1p(-q)
  let coef = 1
  for (let i = 0; i < SERIES_MAX_TERMS; i++) {
    if (i > 0) coef *= (alpha - i + 1) / i
    const logCoef = Math.log(Math.abs(coef))
    const j = alpha - i
    const logT0 = logCoef + i * logQ + j * log1mQ
    const logT1 = logCoef + j * logQ + i * log1mQ
    const logE0 = Math.log(0.5) + logErfc((i - z0) / (Math.SQRT2 * sigma))
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / (Math.SQRT2 * sigma))
    const logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0
    const logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1
    if (coef > 0) {
      logA0 = logAdd(logA0, logS0)
      logA1 = logAdd(logA1, logS1)
    } else {
      logA0 = logSub(logA0, logS0)
      logA1 = logSub(logA1, logS1)
    }
    if (Math.max(logS0, logS1) < SERIES_CUTOFF) break
  }
  return logAdd(logA0, logA1)
}

/**
 * RDP at order `alpha` of one step of the sampled Gaussian mechanism with
 * sampling rate `q` and noise multiplier `sigma`. `q = 1` is the plain
 * Gaussian mechanism, `α / (2σ²)`.
 */
export function sampledGaussianRdp (q: number, sigma: number, alpha: number): number {
  if (!(q >= 0 && q <= 1)) throw new InvalidConfigError(`sampling rate must be in [0, 1], got ${q}`)
  if (!(sigma >= 0)) throw new InvalidConfigError(`noise multiplier must be >= 0, got ${sigma}`)
  if (!(alpha > 1)) throw new InvalidConfigError(`RDP order must be > 1, got ${alpha}`)
  if (q === 0) return 0
  if (sigma === 0) return Infinity
  if (q === 1) return alpha / (2 * sigma * sigma)
  if (!Number.isFinite(alpha)) return Infinity
  const logA = Number.isInteger(alpha) ? logAInt(q, sigma, alpha) : logAFrac(q, sigma, alpha)
  return logA / (alpha - 1)
}

/** RDP of `steps` compositions at each order of `orders`. */
export function computeRdp (q: number, sigma: number, steps: number, orders: readonly number[]): number[] {
  return orders.map((alpha) => steps * sampledGaussianRdp(q, sigma, alpha))
}

/**
 * How RDP becomes (ε, δ):
 * - `balle2020`: Balle et al. 2020, "Hypothesis testing interpretations and
 *   Rényi DP", Theorem 21: `ε = rdp + log((α-1)/α) - (log δ + log α)/(α-1)`
 *   (what Opacus and current TF Privacy report);
 * - `mironov2017`: Mironov 2017, Proposition 3: `ε = rdp + log(1/δ)/(α-1)`.
 */
export type RdpConversion = 'balle2020' | 'mironov2017'

/** ε at one order. */
export function epsilonAtOrder (rdp: number, alpha: number, delta: number, conversion: RdpConversion = 'balle2020'): number {
  if (conversion === 'mironov2017') return rdp + Math.log(1 / delta) / (alpha - 1)
  return rdp + Math.log((alpha - 1) / alpha) - (Math.log(delta) + Math.log(alpha)) / (alpha - 1)
}

/** The smallest ε over the orders (and the order that gives it) for the given δ. */
export function epsilonFromRdp (orders: readonly number[], rdp: readonly number[], delta: number, conversion: RdpConversion = 'balle2020'): { epsilon: number, order: number } {
  if (orders.length !== rdp.length || orders.length === 0) throw new InvalidConfigError('one RDP value per order is required')
  if (!(delta > 0 && delta < 1)) throw new InvalidConfigError(`delta must be in (0, 1), got ${delta}`)
  let best = { epsilon: Infinity, order: orders[0] }
  for (let i = 0; i < orders.length; i++) {
    const eps = epsilonAtOrder(rdp[i], orders[i], delta, conversion)
    if (eps < best.epsilon) best = { epsilon: Math.max(0, eps), order: orders[i] }
  }
  return best
}
