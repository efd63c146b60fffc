/**
 * Streaming aggregation (issue #12): FedAvg and FedSGD are weighted sums, so
 * each update is folded into a running float64 sum as it is accepted and then
 * dropped. The coordinator holds O(model) memory however many clients take
 * part, instead of O(participants x model).
 *
 * Robust rules (median, trimmed mean, Krum, FLTrust, bucketing) need every
 * update at once and cannot stream. They keep the updates, and a round that
 * would buffer more than `maxBufferedUpdates` of them is refused up front with
 * `TooManyParticipantsError` (bounded memory, said out loud).
 */
import { InvalidUpdateError, TooManyParticipantsError } from '../errors.js'
import { castLayer } from './strategy.js'
import type { ClientUpdate } from './grid.js'
import type { RoundContext, Strategy } from './strategy.js'
import type { WeightRecord } from '../model/types.js'

/** Folds a round's accepted updates one at a time. */
export interface UpdateFolder {
  /** Fold in one validated update; the caller may drop it afterwards. */
  add(update: ClientUpdate): void
  /** The aggregate of everything added. Throws InvalidUpdateError when nothing (or only zero weight) was added. */
  result(): WeightRecord
}

/** A strategy whose aggregate can be computed update by update. */
export interface StreamingStrategy extends Strategy {
  /** A fresh folder for one attempt of a round. */
  fold(ctx: RoundContext): UpdateFolder
}

/** True when `strategy` can aggregate as updates arrive. */
export function isStreaming (strategy: Strategy): strategy is StreamingStrategy {
  return typeof (strategy as Partial<StreamingStrategy>).fold === 'function'
}

/** An `aggregate` made of a `fold`: fold every buffered result, then take the folder's result. */
export function aggregateByFolding (fold: (ctx: RoundContext) => UpdateFolder): Strategy['aggregate'] {
  return (ctx, results) => {
    const folder = fold(ctx)
    for (const r of results) folder.add(r)
    return folder.result()
  }
}

/**
 * The example-weighted average of the updates (FedAvg's aggregate), folded:
 * `sum_i n_i x_i / sum_i n_i` with float64 sums, one buffer per layer of the
 * global model. Layers are matched by name (updates are validated first).
 */
export function weightedSumFolder (global: WeightRecord): UpdateFolder {
  const sums = global.map(g => new Float64Array(g.data.length))
  let total = 0
  return {
    add (update) {
      const w = update.numExamples
      if (!Number.isFinite(w) || w < 0) throw new InvalidUpdateError(`invalid aggregation weight ${w}`)
      if (w === 0) return
      const byName = new Map(update.weights.map(t => [t.name, t]))
      global.forEach((g, k) => {
        const t = byName.get(g.name)
        if (t === undefined || t.data.length !== g.data.length) throw new InvalidUpdateError(`layer "${g.name}" missing or mis-sized in an update (validate updates first)`)
        const sum = sums[k]
        const x = t.data
        for (let j = 0; j < sum.length; j++) sum[j] += w * x[j]
      })
      total += w
    },
    result () {
      if (total <= 0) throw new InvalidUpdateError('nothing to aggregate: no updates with examples')
      return global.map((g, k) => {
        const out = new Float32Array(g.data.length)
        const sum = sums[k]
        for (let j = 0; j < out.length; j++) out[j] = sum[j] / total
        return { name: g.name, shape: [...g.shape], dtype: g.dtype, data: castLayer(out, g.dtype) }
      })
    }
  }
}

/**
 * Refuse a round of a non-streaming strategy that would buffer more than
 * `maxBufferedUpdates` updates (robust rules hold every update until they aggregate).
 */
export function checkBufferedUpdates (strategy: Strategy, sampleSize: number, maxBufferedUpdates: number): void {
  if (isStreaming(strategy) || sampleSize <= maxBufferedUpdates) return
  throw new TooManyParticipantsError(`strategy ${strategy.name} needs every update at once; ${sampleSize} participants exceed its limit of ${maxBufferedUpdates} (raise maxBufferedUpdates, lower the fraction, or use fedavg/fedsgd, which aggregate as updates arrive)`)
}
