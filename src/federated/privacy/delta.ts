/**
 * Updates as differences to the global model, the form clipping, noise,
 * compression and secure aggregation work on. A delta is one flat Float32Array
 * per layer, in the global record's order; integer layers are carried as they
 * are (they hold no trained values in the models edge-mesh trains).
 */
import { InvalidUpdateError } from '../../errors.js'
import type { WeightRecord } from '../../model/types.js'

/** One flat array per layer of the global record. */
export type Delta = Float32Array[]

/** `weights - global`, layer by layer, matched by name. */
export function deltaOf (global: WeightRecord, weights: WeightRecord): Delta {
  const byName = new Map(weights.map((t) => [t.name, t]))
  return global.map((g) => {
    const t = byName.get(g.name)
    if (t === undefined || t.data.length !== g.data.length) throw new InvalidUpdateError(`layer "${g.name}" missing or of the wrong size`)
    const out = new Float32Array(g.data.length)
    for (let i = 0; i < out.length; i++) out[i] = t.data[i] - g.data[i]
    return out
  })
}

/** `global + delta` as a new record. */
export function applyDelta (global: WeightRecord, delta: Delta): WeightRecord {
  return global.map((g, l) => {
    const d = delta[l]
    if (g.dtype !== 'float32') return { ...g, shape: [...g.shape], data: Int32Array.from(g.data, (v, i) => Math.round(v + d[i])) }
    const data = new Float32Array(g.data.length)
    for (let i = 0; i < data.length; i++) data[i] = g.data[i] + d[i]
    return { ...g, shape: [...g.shape], data }
  })
}

/** L2 norm over every layer. */
export function l2Norm (delta: Delta): number {
  let sum = 0
  for (const layer of delta) for (let i = 0; i < layer.length; i++) sum += layer[i] * layer[i]
  return Math.sqrt(sum)
}

/** Scale `delta` in place so its L2 norm is at most `clipNorm`; returns the norm before clipping. */
export function clipInPlace (delta: Delta, clipNorm: number): number {
  const norm = l2Norm(delta)
  if (norm > clipNorm) {
    const scale = clipNorm / norm
    for (const layer of delta) for (let i = 0; i < layer.length; i++) layer[i] *= scale
  }
  return norm
}

/** Add N(0, std^2) to every value, drawing from `normal`. */
export function addGaussianInPlace (delta: Delta, std: number, normal: () => number): void {
  if (std === 0) return
  for (const layer of delta) for (let i = 0; i < layer.length; i++) layer[i] += std * normal()
}

/** Unweighted element-wise mean of deltas (float64 accumulation). */
export function meanOf (deltas: readonly Delta[]): Delta {
  if (deltas.length === 0) throw new InvalidUpdateError('nothing to aggregate: no updates')
  return deltas[0].map((first, l) => {
    const acc = new Float64Array(first.length)
    for (const d of deltas) {
      const layer = d[l]
      for (let i = 0; i < acc.length; i++) acc[i] += layer[i]
    }
    return Float32Array.from(acc, (v) => v / deltas.length)
  })
}
