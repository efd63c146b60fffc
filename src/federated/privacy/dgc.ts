/**
 * Top-k sparsification of a client's round update as Deep Gradient
 * Compression prescribes it (Lin et al., ICLR 2018, Algorithms 1 and 2),
 * with the round's model delta Δ in the place of the gradient:
 *
 * - local clipping: Δ is clipped to `clipNorm` (L2, whole model) before it
 *   is accumulated (off at 0);
 * - momentum correction: the client keeps a velocity `u ← m·u + Δ` and
 *   accumulates it, `v ← v + u`, so sparsification delays momentum instead
 *   of dropping it (m = 0 is plain error feedback: `v ← v + Δ`);
 * - top-k of `v` per layer is sent and zeroed in `v`; momentum factor masking
 *   zeroes `u` at the same places, so a delivered value stops pushing;
 * - warm-up: the density ramps down exponentially from `warmupDensity` in
 *   round 1 to `ratio` after `warmupRounds` rounds (DGC: 25 %, 6.25 %, …).
 *
 * What is not sent stays in `v` (the residual) on the client: nothing is lost,
 * only delayed (unit-tested: sent + residual = every Δ so far, at m = 0).
 *
 * Partial participation (issue #15): DGC assumes every worker in every step.
 * With C = 0.1 a client comes back about 10 rounds later, and its residual
 * (and velocity) describe a model 10 aggregations old. With `staleness` = a
 * > 0 both are discounted on the client's return by FedAsync's polynomial
 * staleness function `s(τ) = (1 + τ)^−a` (Xie, Koyejo and Gupta,
 * "Asynchronous Federated Optimization", 2019), τ = rounds missed since its
 * last update: a stale residual still counts, less. Then sent + residual =
 * the sum of the discounted deltas (unit-tested); what the discount removes
 * is dropped on purpose, as a stale gradient's excess in asynchronous SGD.
 */
import { keptCount, topK } from './compression.js'
import { clipInPlace } from './delta.js'
import type { SparseLayer } from './compression.js'
import type { Delta } from './delta.js'

/** Top-k settings of a run. */
export interface TopKOptions {
  /** Fraction of each layer's values sent after warm-up, in (0, 1]. */
  ratio: number
  /** DGC momentum correction factor m in [0, 1); 0 = plain error feedback. */
  momentum: number
  /** L2 bound of each round's delta before accumulation; 0 = no clipping. */
  clipNorm: number
  /** Rounds of the exponential density ramp; 0 = no warm-up. */
  warmupRounds: number
  /** Density of round 1 when warming up, in [ratio, 1]. */
  warmupDensity: number
  /** Exponent a of the stale-residual discount `(1 + τ)^−a` (τ = rounds missed); 0 = none (plain DGC). */
  staleness: number
  /**
   * How the coordinator averages top-k updates: `all` divides each value by
   * the round's total weight (FedAvg), `senders` by the weight of the clients
   * that sent that coordinate (`sender-average.ts`).
   */
  average: TopKAverage
}

/** The coordinator's averaging of sparse updates (see `TopKOptions.average`). */
export type TopKAverage = 'all' | 'senders'

/** The discount of a residual last updated in round `last`, in `round`: `(round − last)^−a` = `(1 + τ)^−a`, 1 when no round was missed. */
export function stalenessDiscount (round: number, last: number, a: number): number {
  const missed = round - last - 1
  return a <= 0 || missed <= 0 ? 1 : Math.pow(1 + missed, -a)
}

/** What `TopKState.sparsify` applies in one round. */
export interface SparsifyOptions extends Pick<TopKOptions, 'momentum' | 'clipNorm'> {
  /** Discount exponent a (0 = none). @default 0 */
  staleness?: number
  /** The round of this update, from 1; needed for the discount. */
  round?: number
}

/** Density used in `round` (from 1): `warmupDensity · (ratio / warmupDensity)^((round − 1) / warmupRounds)`, then `ratio`. */
export function densityAt (round: number, o: Pick<TopKOptions, 'ratio' | 'warmupRounds' | 'warmupDensity'>): number {
  if (o.warmupRounds <= 0 || round > o.warmupRounds || o.warmupDensity <= o.ratio) return o.ratio
  return o.warmupDensity * Math.pow(o.ratio / o.warmupDensity, (round - 1) / o.warmupRounds)
}

/** Largest encoded top-k update at `density` for layers of these lengths (12-byte header, 8 per layer, 8 per value). */
export function topKBytesBound (lengths: readonly number[], density: number): number {
  return 12 + lengths.reduce((n, len) => n + 8 + 8 * keptCount(len, density), 0)
}

function zeros (like: Delta): Delta {
  return like.map((l) => new Float32Array(l.length))
}

function sameShape (a: Delta | undefined, b: Delta): a is Delta {
  return a !== undefined && a.length === b.length && a.every((l, i) => l.length === b[i].length)
}

function scaleInPlace (delta: Delta, factor: number): void {
  for (const layer of delta) for (let i = 0; i < layer.length; i++) layer[i] *= factor
}

/** One client's DGC state in one run: velocity `u`, accumulator `v`, and the round it last changed. */
export class TopKState {
  private u: Delta | undefined
  private v: Delta | undefined
  private lastRound: number | undefined

  /** Accumulate `delta` (modified in place when clipped) and return the top `density` of each layer. */
  sparsify (delta: Delta, density: number, o: SparsifyOptions = { momentum: 0, clipNorm: 0 }): SparseLayer[] {
    if (!sameShape(this.v, delta)) {
      this.v = zeros(delta)
      this.u = zeros(delta)
      this.lastRound = undefined
    }
    const u = this.u as Delta
    const v = this.v
    if (o.round !== undefined) {
      const discount = this.lastRound === undefined ? 1 : stalenessDiscount(o.round, this.lastRound, o.staleness ?? 0)
      if (discount !== 1) {
        scaleInPlace(u, discount)
        scaleInPlace(v, discount)
      }
      this.lastRound = o.round
    }
    if (o.clipNorm > 0) clipInPlace(delta, o.clipNorm)
    for (let l = 0; l < delta.length; l++) {
      const d = delta[l]
      const ul = u[l]
      const vl = v[l]
      for (let i = 0; i < d.length; i++) {
        ul[i] = o.momentum * ul[i] + d[i]
        vl[i] += ul[i]
      }
    }
    const sent = v.map((vl) => topK(vl, keptCount(vl.length, density)))
    for (let l = 0; l < v.length; l++) {
      for (const i of sent[l].indices) {
        v[l][i] = 0
        u[l][i] = 0
      }
    }
    return sent
  }
}
