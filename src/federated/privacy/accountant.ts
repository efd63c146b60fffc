/**
 * The RDP accountant: sums the Rényi DP of every sampled Gaussian step of a
 * run at a grid of orders and reports the tightest (ε, δ). Steps with the
 * same (q, σ) are memoised, so a round costs one lookup after the first.
 */
import { DEFAULT_RDP_ORDERS } from './constants.js'
import { computeRdp, epsilonFromRdp } from './rdp.js'
import type { RdpConversion } from './rdp.js'

/** One accounted step: sampling rate and noise multiplier. */
export interface DpStep {
  sampleRate: number
  noiseMultiplier: number
}

/** Privacy spent so far. */
export interface PrivacySpent {
  epsilon: number
  delta: number
  /** The RDP order that gave ε. */
  order: number
  steps: number
}

export interface RdpAccountantInit {
  /** @default DEFAULT_RDP_ORDERS */
  orders?: readonly number[]
  /** @default 'balle2020' */
  conversion?: RdpConversion
}

/** Accumulates RDP over steps; `spent(δ)` converts to (ε, δ). */
export class RdpAccountant {
  readonly orders: readonly number[]
  private readonly conversion: RdpConversion
  private readonly total: Float64Array
  private readonly memo = new Map<string, number[]>()
  private count = 0

  constructor (init: RdpAccountantInit = {}) {
    this.orders = init.orders ?? DEFAULT_RDP_ORDERS
    this.conversion = init.conversion ?? 'balle2020'
    this.total = new Float64Array(this.orders.length)
  }

  /** RDP of `steps` steps of `step` at every order (memoised per (q, σ)). */
  private rdpOf (step: DpStep, steps: number): number[] {
    const key = `${step.sampleRate}/${step.noiseMultiplier}`
    let one = this.memo.get(key)
    if (one === undefined) {
      one = computeRdp(step.sampleRate, step.noiseMultiplier, 1, this.orders)
      this.memo.set(key, one)
    }
    return one.map((r) => r * steps)
  }

  /** Account `steps` more steps of `step`. */
  step (step: DpStep, steps = 1): void {
    const rdp = this.rdpOf(step, steps)
    for (let i = 0; i < rdp.length; i++) this.total[i] += rdp[i]
    this.count += steps
  }

  /** (ε, δ) spent so far. */
  spent (delta: number): PrivacySpent {
    return { ...epsilonFromRdp(this.orders, Array.from(this.total), delta, this.conversion), delta, steps: this.count }
  }

  /** ε after `steps` more steps of `step`, without accounting them. */
  peek (step: DpStep, delta: number, steps = 1): number {
    const more = this.rdpOf(step, steps)
    const rdp = Array.from(this.total, (r, i) => r + more[i])
    return epsilonFromRdp(this.orders, rdp, delta, this.conversion).epsilon
  }
}

/** ε after `steps` steps of the sampled Gaussian mechanism with (q, σ). */
export function epsilonAfter (sampleRate: number, noiseMultiplier: number, steps: number, delta: number): number {
  const acc = new RdpAccountant()
  acc.step({ sampleRate, noiseMultiplier }, steps)
  return acc.spent(delta).epsilon
}

/**
 * The smallest noise multiplier (to 0.1 % by bisection) whose ε after `steps`
 * steps with sampling rate q stays at or below `targetEpsilon`.
 */
export function noiseMultiplierFor (targetEpsilon: number, sampleRate: number, steps: number, delta: number): number {
  let lo = 0.01
  let hi = 1000
  if (epsilonAfter(sampleRate, hi, steps, delta) > targetEpsilon) return Infinity
  while (hi / lo > 1.001) {
    const mid = Math.sqrt(lo * hi)
    if (epsilonAfter(sampleRate, mid, steps, delta) > targetEpsilon) lo = mid
    else hi = mid
  }
  return hi
}
