/**
 * Checks every client update against the global model before it may be
 * aggregated, like Flower's FedAvg which first checks that all replies have
 * the same keys and shapes. Failures name the layer.
 */
import { InvalidUpdateError } from '../../errors.js'
import type { WeightRecord } from '../../model/types.js'

function sameShape (a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function product (shape: readonly number[]): number {
  let p = 1
  for (const d of shape) p *= d
  return p
}

/**
 * Throw `InvalidUpdateError` unless `update` has exactly the layers of
 * `global` (same names, order-independent), the same shapes and dtypes, data
 * of the right length and only finite values; and, when `numExamples` is
 * given, unless it is a positive integer.
 */
export function validateUpdate (global: WeightRecord, update: WeightRecord, numExamples?: number): void {
  if (numExamples !== undefined && !(Number.isInteger(numExamples) && numExamples > 0)) {
    throw new InvalidUpdateError(`example count must be a positive integer, got ${numExamples}`)
  }
  const byName = new Map<string, WeightRecord[number]>()
  for (const t of update) {
    if (byName.has(t.name)) throw new InvalidUpdateError(`layer "${t.name}" appears twice in the update`)
    byName.set(t.name, t)
  }
  for (const g of global) {
    const u = byName.get(g.name)
    if (u === undefined) throw new InvalidUpdateError(`layer "${g.name}" is missing from the update`)
    if (!sameShape(g.shape, u.shape)) {
      throw new InvalidUpdateError(`layer "${g.name}" has shape [${u.shape.join(',')}], expected [${g.shape.join(',')}]`)
    }
    if (u.dtype !== g.dtype) throw new InvalidUpdateError(`layer "${g.name}" has dtype ${u.dtype}, expected ${g.dtype}`)
    const expected = product(g.shape)
    if (u.data.length !== expected) {
      throw new InvalidUpdateError(`layer "${g.name}" holds ${u.data.length} values, its shape needs ${expected}`)
    }
    const data = u.data
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new InvalidUpdateError(`layer "${g.name}" holds a non-finite value at index ${i}`)
    }
    byName.delete(g.name)
  }
  for (const extra of byName.keys()) throw new InvalidUpdateError(`layer "${extra}" is not in the global model`)
}
