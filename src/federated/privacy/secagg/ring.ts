/**
 * Int8 inside the mask ring: compression composed with secure aggregation.
 *
 * Each client clamps its delta to [-B, B] (B: the round's fixed-point
 * `bound`, the same for every client, so every client quantizes on the same
 * grid) and rounds every value stochastically to one of the 255 levels
 * q * Δ, q in [-127, 127], Δ = B / 127 (QSGD-style: up with probability
 * equal to the remainder, so E[q Δ] = the clamped value). It masks the levels,
 * and the weight 1, in the ring Z_{2^b} with
 *
 *   b = 8 + ceil(log2 m) + SECAGG_INT8_HEADROOM_BITS   (m: clients of the round)
 *
 * and sends b bits per value instead of 32. No sum can wrap: m clients add
 * at most 127 m <= 127 * 2^ceil(log2 m) < 2^(b-1) in absolute value, so the
 * sum read as a signed b-bit number is exact (the headroom is 0 because this
 * bound needs none). The masks are ChaCha20 words reduced mod 2^b (2^b
 * divides 2^32, so they stay uniform), and since reduction mod 2^b is a ring
 * homomorphism from Z_{2^32}, the client and server do their arithmetic in
 * Z_{2^32} as before and reduce when packing and decoding.
 *
 * Weights: every client masks weight 1, so the round averages its survivors'
 * deltas with equal weights (the ring has no room for n_i * x_i). With equal
 * shards, as in the benchmark, this is weighted FedAvg; with unequal ones it
 * is not: weighted FedAvg stays with the 32-bit ring.
 *
 * Error bound (tested): for every value with |x_i| <= B, the aggregated mean
 * of s survivors differs from the mean of their true values by less than Δ
 * (each client's error is in (-Δ, Δ)), has expectation 0, standard deviation
 * at most Δ / (2 sqrt s), and by Hoeffding exceeds Δ sqrt(ln(2/δ) / (2 s))
 * with probability at most δ; plus float32 rounding of the result.
 */
import { InvalidConfigError, InvalidUpdateError } from '../../../errors.js'
import { expandMask } from './crypto.js'
import type { RandomSource } from './crypto.js'

/** Levels each side of 0 (int8 without -128, so the grid is symmetric). */
export const INT8_LEVELS = 127

/** Extra bits of the ring beyond 8 + ceil(log2 m): none needed (see the module comment). */
export const SECAGG_INT8_HEADROOM_BITS = 0

/** The ring's bits for a round of `clients` clients. */
export function int8RingBits (clients: number): number {
  if (!Number.isInteger(clients) || clients < 2) throw new InvalidConfigError(`int8 secure aggregation needs at least 2 clients, got ${clients}`)
  return 8 + Math.ceil(Math.log2(clients)) + SECAGG_INT8_HEADROOM_BITS
}

/** The quantization step Δ = bound / 127. */
export function int8Step (bound: number): number {
  return bound / INT8_LEVELS
}

/** The per-value error of the mean of `survivors` quantized updates that holds with probability >= 1 - delta (Hoeffding). */
export function int8MeanErrorBound (bound: number, survivors: number, delta: number): number {
  return int8Step(bound) * Math.sqrt(Math.log(2 / delta) / (2 * survivors))
}

/**
 * Quantize `x` (clamped to [-bound, bound]) to levels in [-127, 127] by
 * unbiased stochastic rounding, with uniforms from a ChaCha20 stream under 32
 * bytes of `random`; the levels as u32 words (two's complement), then weight 1.
 */
export function quantizeInt8 (x: ArrayLike<number>, bound: number, random: RandomSource): Uint32Array {
  const step = int8Step(bound)
  const uniforms = expandMask(random(32), x.length)
  const out = new Uint32Array(x.length + 1)
  for (let i = 0; i < x.length; i++) {
    const v = Math.min(bound, Math.max(-bound, x[i])) / step
    const low = Math.floor(v)
    const q = Math.min(INT8_LEVELS, low + (uniforms[i] / 4_294_967_296 < v - low ? 1 : 0))
    out[i] = q >>> 0
  }
  out[x.length] = 1
  return out
}

/** Reduce every word mod 2^bits, in place. */
export function reduceInto (v: Uint32Array, bits: number): void {
  if (bits >= 32) return
  const mask = 2 ** bits - 1
  for (let i = 0; i < v.length; i++) v[i] = v[i] & mask
}

/** Decode a summed vector in Z_{2^bits}: the mean of the levels times Δ, and the total weight (the survivors). */
export function decodeInt8Mean (sum: Uint32Array, bits: number, bound: number): { mean: Float32Array, totalWeight: number } {
  const shift = 32 - bits
  const signed = (w: number): number => (w << shift) >> shift
  const totalWeight = signed(sum[sum.length - 1])
  const mean = new Float32Array(sum.length - 1)
  if (totalWeight <= 0) return { mean, totalWeight }
  const scale = int8Step(bound) / totalWeight
  for (let i = 0; i < mean.length; i++) mean[i] = signed(sum[i]) * scale
  return { mean, totalWeight }
}

/** Words that hold `length` values of `bits` bits. */
export function packedWords (length: number, bits: number): number {
  return Math.ceil(length * bits / 32)
}

/**
 * Pack values of `bits` bits (each < 2^bits) into u32 words: value i takes
 * bits i*bits .. (i+1)*bits - 1 of the stream, least significant first (so,
 * with the words little-endian, a little-endian bit stream of bytes).
 */
export function packBits (values: Uint32Array, bits: number): Uint32Array {
  if (bits === 32) return values
  const out = new Uint32Array(packedWords(values.length, bits))
  let bit = 0
  for (let i = 0; i < values.length; i++, bit += bits) {
    const word = bit >>> 5
    const offset = bit & 31
    out[word] = (out[word] | (values[i] << offset)) >>> 0
    if (offset + bits > 32) out[word + 1] = values[i] >>> (32 - offset)
  }
  return out
}

/** Unpack `length` values of `bits` bits; InvalidUpdateError unless `words` is exactly their packing. */
export function unpackBits (words: Uint32Array, bits: number, length: number): Uint32Array {
  if (words.length !== packedWords(length, bits)) throw new InvalidUpdateError(`${length} values of ${bits} bits take ${packedWords(length, bits)} words, got ${words.length}`)
  if (bits === 32) return words
  const mask = 2 ** bits - 1
  const out = new Uint32Array(length)
  let bit = 0
  for (let i = 0; i < length; i++, bit += bits) {
    const word = bit >>> 5
    const offset = bit & 31
    let v = words[word] >>> offset
    if (offset + bits > 32) v |= words[word + 1] << (32 - offset)
    out[i] = (v & mask) >>> 0
  }
  // the bits past the last value must be 0: one packing per vector
  const tail = length * bits % 32
  if (tail !== 0 && words[words.length - 1] >>> tail !== 0) throw new InvalidUpdateError('packed vector has bits set past its last value')
  return out
}
