/**
 * Aggregation maths over flattened layers, kept apart from orchestration
 * (like Flower's `aggregate.py`). Every function works on one layer at a time:
 * `layers[i]` is client i's values for that layer, all of the same length.
 * Loops run over typed arrays with scratch buffers allocated once per call,
 * never per element. Accumulation is in float64; results are float32.
 */
import { InvalidUpdateError } from '../../errors.js'

/** A flattened layer as the aggregation functions read it. */
export type LayerData = Float32Array | Int32Array | Float64Array

function checkLayers (layers: readonly LayerData[]): number {
  if (layers.length === 0) throw new InvalidUpdateError('nothing to aggregate: no updates')
  const len = layers[0].length
  for (let i = 1; i < layers.length; i++) {
    if (layers[i].length !== len) {
      throw new InvalidUpdateError(`update ${i} has ${layers[i].length} values, update 0 has ${len}`)
    }
  }
  return len
}

/**
 * Weighted average (FedAvg): `sum_i w_i * x_i / sum_i w_i`, with `w_i` the
 * example count of client i. Weights must be finite and their sum positive.
 */
export function weightedAverage (layers: readonly LayerData[], weights: readonly number[], out?: Float32Array): Float32Array {
  const len = checkLayers(layers)
  if (weights.length !== layers.length) throw new InvalidUpdateError('one weight per update is required')
  let total = 0
  for (const w of weights) {
    if (!Number.isFinite(w) || w < 0) throw new InvalidUpdateError(`invalid aggregation weight ${w}`)
    total += w
  }
  if (total <= 0) throw new InvalidUpdateError('aggregation weights sum to zero')
  const acc = new Float64Array(len)
  for (let i = 0; i < layers.length; i++) {
    const x = layers[i]
    const w = weights[i] / total
    if (w === 0) continue
    for (let j = 0; j < len; j++) acc[j] += w * x[j]
  }
  const result = out ?? new Float32Array(len)
  for (let j = 0; j < len; j++) result[j] = acc[j]
  return result
}

/** Sort the first `n` values of `a` ascending in place (insertion sort for small n, native otherwise). */
function sortScratch (a: Float64Array, n: number): void {
  if (n > 24) {
    a.subarray(0, n).sort()
    return
  }
  for (let i = 1; i < n; i++) {
    const v = a[i]
    let k = i - 1
    while (k >= 0 && a[k] > v) {
      a[k + 1] = a[k]
      k--
    }
    a[k + 1] = v
  }
}

/** Coordinate-wise median; with an even number of updates, the mean of the two middle values. */
export function coordinateMedian (layers: readonly LayerData[], out?: Float32Array): Float32Array {
  const len = checkLayers(layers)
  const n = layers.length
  const scratch = new Float64Array(n)
  const result = out ?? new Float32Array(len)
  const mid = n >> 1
  for (let j = 0; j < len; j++) {
    for (let i = 0; i < n; i++) scratch[i] = layers[i][j]
    sortScratch(scratch, n)
    result[j] = (n & 1) === 1 ? scratch[mid] : (scratch[mid - 1] + scratch[mid]) / 2
  }
  return result
}

/** How many values the trimmed mean cuts from each end for `n` updates and fraction `beta`. */
export function trimCount (n: number, beta: number): number {
  if (!(beta >= 0 && beta < 0.5)) throw new InvalidUpdateError(`trim fraction beta must be in [0, 0.5), got ${beta}`)
  return Math.floor(beta * n)
}

/**
 * Coordinate-wise trimmed mean: for every coordinate drop the `floor(beta * n)`
 * smallest and largest values and average the rest (Yin et al. 2018).
 */
export function trimmedMean (layers: readonly LayerData[], beta: number, out?: Float32Array): Float32Array {
  const len = checkLayers(layers)
  const n = layers.length
  const k = trimCount(n, beta)
  const kept = n - 2 * k
  const scratch = new Float64Array(n)
  const result = out ?? new Float32Array(len)
  for (let j = 0; j < len; j++) {
    for (let i = 0; i < n; i++) scratch[i] = layers[i][j]
    sortScratch(scratch, n)
    let sum = 0
    for (let i = k; i < n - k; i++) sum += scratch[i]
    result[j] = sum / kept
  }
  return result
}

/**
 * Squared Euclidean distances between every pair of updates, summed over all
 * layers. `updates[i][l]` is layer l of update i. Returns a symmetric n*n matrix
 * in row-major order.
 */
export function pairwiseSquaredDistances (updates: ReadonlyArray<readonly LayerData[]>): Float64Array {
  const n = updates.length
  const dist = new Float64Array(n * n)
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      let d = 0
      const ua = updates[a]
      const ub = updates[b]
      for (let l = 0; l < ua.length; l++) {
        const x = ua[l]
        const y = ub[l]
        for (let j = 0; j < x.length; j++) {
          const diff = x[j] - y[j]
          d += diff * diff
        }
      }
      dist[a * n + b] = d
      dist[b * n + a] = d
    }
  }
  return dist
}

/**
 * Krum scores (Blanchard et al. 2017): for each update, the sum of squared
 * distances to its `n - f - 2` nearest other updates. Needs `n - f - 2 >= 1`.
 */
export function krumScores (dist: Float64Array, n: number, f: number): Float64Array {
  const neighbours = n - f - 2
  if (!Number.isInteger(f) || f < 0 || neighbours < 1) {
    throw new InvalidUpdateError(`Krum needs n - f - 2 >= 1, got n=${n} f=${f}`)
  }
  const scores = new Float64Array(n)
  const row = new Float64Array(n - 1)
  for (let i = 0; i < n; i++) {
    let k = 0
    for (let j = 0; j < n; j++) if (j !== i) row[k++] = dist[i * n + j]
    sortScratch(row, n - 1)
    let s = 0
    for (let j = 0; j < neighbours; j++) s += row[j]
    scores[i] = s
  }
  return scores
}

/**
 * Multi-Krum selection: the indices of the `m` updates with the lowest Krum
 * scores, best first (ties broken by index). `m = 1` is Krum.
 */
export function multiKrumSelect (updates: ReadonlyArray<readonly LayerData[]>, f: number, m: number): number[] {
  const n = updates.length
  if (!Number.isInteger(m) || m < 1 || m > n) throw new InvalidUpdateError(`Multi-Krum needs 1 <= m <= n, got m=${m} n=${n}`)
  const scores = krumScores(pairwiseSquaredDistances(updates), n, f)
  const order = Array.from({ length: n }, (_, i) => i)
  order.sort((a, b) => scores[a] - scores[b] || a - b)
  return order.slice(0, m)
}

/** The largest f Krum tolerates for n updates: `floor((n - 3) / 2)` (needs n > 2f + 2), at least 0. */
export function maxKrumByzantine (n: number): number {
  return Math.max(0, Math.floor((n - 3) / 2))
}
