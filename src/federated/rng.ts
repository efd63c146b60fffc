/**
 * A small seeded random number generator (mulberry32) with the samplers the
 * federated code needs: integers, shuffles, normals and gamma/Dirichlet
 * draws. Its whole state is one 32-bit integer, so a run can checkpoint it.
 */
import { mulberry32Advance, mulberry32Output, shuffleInPlace } from '../model/random.js'

/** A seeded, checkpointable source of random numbers. */
export interface Rng {
  /** A float in [0, 1). */
  next(): number
  /** An integer in [0, n). */
  int(n: number): number
  /** A standard normal draw (Box-Muller). */
  normal(): number
  /** A Gamma(shape, 1) draw (Marsaglia-Tsang). */
  gamma(shape: number): number
  /** Shuffle `items` in place (Fisher-Yates) and return it. */
  shuffle<T>(items: T[]): T[]
  /** The generator's state; `createRng(rng.state())` continues the same sequence. */
  state(): number
}

/** Create a mulberry32 generator from a 32-bit seed (any number; it is truncated to uint32). */
export function createRng (seed: number): Rng {
  let s = seed >>> 0
  const next = (): number => {
    s = mulberry32Advance(s)
    return mulberry32Output(s)
  }
  const normal = (): number => {
    const u = 1 - next()
    const v = next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }
  const gamma = (shape: number): number => {
    if (shape < 1) {
      // Boost: Gamma(a) = Gamma(a + 1) * U^(1/a)
      return gamma(shape + 1) * Math.pow(1 - next(), 1 / shape)
    }
    const d = shape - 1 / 3
    const c = 1 / Math.sqrt(9 * d)
    for (;;) {
      let x: number
      let v: number
      do {
        x = normal()
        v = 1 + c * x
      } while (v <= 0)
      v = v * v * v
      const u = 1 - next()
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v
    }
  }
  return {
    next,
    int: (n) => Math.floor(next() * n),
    normal,
    gamma,
    shuffle: (items) => shuffleInPlace(items, next),
    state: () => s
  }
}

/** Derive an independent seed for a sub-stream (e.g. one client in one round) from a base seed. */
export function deriveSeed (base: number, ...parts: number[]): number {
  let h = (base >>> 0) ^ 0x9E3779B9
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85EBCA6B)
    h ^= h >>> 13
    h = Math.imul(h, 0xC2B2AE35)
    h ^= h >>> 16
  }
  return h >>> 0
}

/** Draw a probability vector from a symmetric Dirichlet(alpha) of dimension `k`. */
export function dirichlet (rng: Rng, alpha: number, k: number): Float64Array {
  const out = new Float64Array(k)
  let sum = 0
  for (let i = 0; i < k; i++) {
    out[i] = rng.gamma(alpha)
    sum += out[i]
  }
  if (sum <= 0) {
    out.fill(1 / k)
    return out
  }
  for (let i = 0; i < k; i++) out[i] /= sum
  return out
}
