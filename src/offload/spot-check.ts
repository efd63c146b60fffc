/**
 * Spot checks of remote inference results (pure parts): which results to
 * check, and whether two answers to the same request are the same result.
 *
 * A node cannot prove that a peer ran the model it announces, but it can re-run
 * a random share of the peer's answers and compare. A peer that lies on a share
 * `l` of its answers is caught, at spot-check rate `r`, after about `1 / (r * l)`
 * of its answers (geometric; see docs/security.md "Inference").
 */
import type { TensorData } from '../model/types.js'

/** Whether to check this result: true with probability `rate`. */
export function shouldSpotCheck (rate: number, random: () => number): boolean {
  return rate > 0 && random() < rate
}

/** The outcome of comparing two answers. */
export interface Comparison {
  same: boolean
  /** Largest absolute difference over every element (Infinity on a shape, dtype or NaN mismatch). */
  maxAbsDiff: number
  /** Why they differ, for logs. */
  reason?: string
}

/** The largest absolute difference of two tensors of equal shape and dtype; Infinity when one is NaN and the other is not. */
function maxDiff (a: TensorData, b: TensorData): number {
  let max = 0
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i]
    const y = b.data[i]
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return Number.POSITIVE_INFINITY
      continue
    }
    max = Math.max(max, Math.abs(x - y))
  }
  return max
}

/**
 * Compare a peer's outputs with a reference: the same number of tensors, each
 * with the same shape and dtype, int32 values equal and float values within
 * `tolerance` (max absolute difference).
 */
export function compareOutputs (answer: TensorData[], reference: TensorData[], tolerance: number): Comparison {
  if (answer.length !== reference.length) return { same: false, maxAbsDiff: Infinity, reason: `${answer.length} outputs, expected ${reference.length}` }
  let max = 0
  for (let t = 0; t < answer.length; t++) {
    const a = answer[t]
    const b = reference[t]
    if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join() || a.data.length !== b.data.length) {
      return { same: false, maxAbsDiff: Infinity, reason: `output ${t} is ${a.dtype}[${a.shape.join()}], expected ${b.dtype}[${b.shape.join()}]` }
    }
    max = Math.max(max, maxDiff(a, b))
  }
  const limit = answer.every(t => t.dtype === 'int32') ? 0 : tolerance
  return max <= limit ? { same: true, maxAbsDiff: max } : { same: false, maxAbsDiff: max, reason: `max abs diff ${max} > ${limit}` }
}

/** What a node's spot checks found since start. */
export interface SpotCheckCounts {
  /** Remote results re-run and compared. */
  checked: number
  /** Checks whose reference disagreed with the peer's answer. */
  mismatches: number
  /** Peers banned for a mismatch. */
  bans: number
  /** Checks that could not complete (no reference within the deadline); the answer was returned unchecked. */
  failed: number
}

export function emptySpotCheckCounts (): SpotCheckCounts {
  return { checked: 0, mismatches: 0, bans: 0, failed: 0 }
}
