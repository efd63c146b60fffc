/**
 * Fixed-point encoding of weighted updates into Z_{2^32}, where masks add and
 * cancel exactly. A client with weight n (its example count) and update x
 * encodes `round(n * clamp(x, -B, B) * 2^f)` per value and appends n itself.
 * The number of fractional bits f is the largest that keeps any sum of
 * weights up to W from overflowing: `B * W * 2^f < 2^31`.
 *
 * Error bound (stated and tested): when every |x| <= B, the securely
 * aggregated weighted mean differs from the float64 weighted mean by at most
 * `m * 2^-(f+1) / sum(n)` per value (m clients, each rounding n*x once to the
 * nearest multiple of 2^-f), plus the float32 rounding of the result. With the
 * defaults (B = 1, W = 2^16, so f = 14) and 10 clients of 80 examples that is
 * 10 * 2^-15 / 800 = 3.8e-7.
 */
import { InvalidConfigError } from '../../../errors.js'

export interface FixedPointParams {
  /** Values are clamped to [-bound, bound] before encoding. */
  bound: number
  /** Largest sum of weights a round may have. */
  maxTotalWeight: number
}

/** Fractional bits for these parameters: the largest f with `bound * maxTotalWeight * 2^f <= 2^30` (one bit of headroom). */
export function fractionalBits (p: FixedPointParams): number {
  if (!(p.bound > 0) || !(p.maxTotalWeight >= 1)) throw new InvalidConfigError('fixed point needs bound > 0 and maxTotalWeight >= 1')
  const f = Math.floor(30 - Math.log2(p.bound * p.maxTotalWeight))
  if (f < 0) throw new InvalidConfigError(`bound ${p.bound} x total weight ${p.maxTotalWeight} does not fit 32-bit fixed point`)
  return Math.min(f, 24)
}

/** The per-value error bound of the aggregated mean of `clients` updates of total weight `totalWeight`: `clients * 2^-(f+1) / totalWeight`. */
export function meanErrorBound (p: FixedPointParams, clients: number, totalWeight: number): number {
  return clients * 2 ** -(fractionalBits(p) + 1) / totalWeight
}

/** Encode `weight * x` (clamped) and then `weight` into a vector of length `x.length + 1` mod 2^32. */
export function encodeWeighted (x: ArrayLike<number>, weight: number, p: FixedPointParams): Uint32Array {
  if (!Number.isInteger(weight) || weight < 0 || weight > p.maxTotalWeight) throw new InvalidConfigError(`weight must be an integer in [0, ${p.maxTotalWeight}], got ${weight}`)
  const scale = weight * 2 ** fractionalBits(p)
  const out = new Uint32Array(x.length + 1)
  for (let i = 0; i < x.length; i++) {
    const v = Math.min(p.bound, Math.max(-p.bound, x[i]))
    out[i] = Math.round(v * scale) >>> 0
  }
  out[x.length] = weight
  return out
}

/** Decode an aggregated vector: the weighted mean of the values and the total weight. */
export function decodeWeightedMean (sum: Uint32Array, p: FixedPointParams): { mean: Float32Array, totalWeight: number } {
  const totalWeight = sum[sum.length - 1]
  const scale = totalWeight * 2 ** fractionalBits(p)
  const mean = new Float32Array(sum.length - 1)
  if (totalWeight === 0) return { mean, totalWeight }
  for (let i = 0; i < mean.length; i++) mean[i] = (sum[i] | 0) / scale
  return { mean, totalWeight }
}

/** `acc += v` mod 2^32, in place. */
export function addInto (acc: Uint32Array, v: Uint32Array, sign: 1 | -1 = 1): void {
  if (sign === 1) for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] + v[i]) >>> 0
  else for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] - v[i]) >>> 0
}
