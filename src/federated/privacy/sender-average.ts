/**
 * The coordinator's side of top-k with partial participation (issue #15):
 * per-coordinate averaging over the clients that sent a coordinate.
 *
 * FedAvg divides every coordinate by the round's total weight. With top-k at
 * 1 % most coordinates of a client's update are absent (zero), so a value
 * sent by 3 of 10 clients is diluted 10/3 times, and the global step shrinks
 * with the density. Here each coordinate is the example-weighted mean over
 * the updates that carry it: `Σ_{i sent j} n_i·Δ_ij / Σ_{i sent j} n_i`, and 0
 * when nobody sent it. This is how HeteroFL (Diao, Ding and Tarokh, ICLR
 * 2021) averages parameters that only some clients hold, applied to the
 * coordinates each client chose to send. With dense updates (every
 * coordinate sent by everyone) it is FedAvg.
 *
 * It is biased, and meant for partial participation: a coordinate sent by
 * one client of m is applied at that client's full value, so with error
 * feedback a residual can land up to m times more strongly than under
 * FedAvg. At C = 0.1 (with the stale-residual discount) that is the step 1 %
 * updates lack; with every client in every round it overshoots
 * (docs/privacy.md, "Top-k with partial participation"). Off by default.
 *
 * A coordinate counts as sent when the decoded weight differs from the
 * global one: the folder sees weight records (the codec has already applied
 * the sparse delta), and a value too small to change the float32 weight
 * changes nothing either way. The folder streams: two float64 buffers of the
 * model's size, whatever the number of clients.
 */
import { InvalidConfigError, InvalidUpdateError } from '../../errors.js'
import { castLayer } from '../strategy.js'
import type { Compression } from './compression.js'
import type { RoundContext, Strategy } from '../strategy.js'
import { aggregateByFolding } from '../streaming.js'
import type { StreamingStrategy, UpdateFolder } from '../streaming.js'
import type { WeightRecord } from '../../model/types.js'

/** The per-coordinate weighted mean over senders of the updates folded in (see the module TSDoc). */
export function senderAverageFolder (global: WeightRecord): UpdateFolder {
  const sums = global.map((g) => new Float64Array(g.data.length))
  const weights = global.map((g) => new Float64Array(g.data.length))
  let updates = 0
  return {
    add (update) {
      const w = update.numExamples
      if (!Number.isFinite(w) || w < 0) throw new InvalidUpdateError(`invalid aggregation weight ${w}`)
      const byName = new Map(update.weights.map((t) => [t.name, t]))
      global.forEach((g, k) => {
        const t = byName.get(g.name)
        if (t === undefined || t.data.length !== g.data.length) throw new InvalidUpdateError(`layer "${g.name}" missing or mis-sized in an update (validate updates first)`)
        const sum = sums[k]
        const weight = weights[k]
        for (let j = 0; j < sum.length; j++) {
          const d = t.data[j] - g.data[j]
          if (d === 0) continue
          sum[j] += w * d
          weight[j] += w
        }
      })
      updates++
    },
    result () {
      if (updates === 0) throw new InvalidUpdateError('nothing to aggregate: no updates')
      return global.map((g, k) => {
        const out = new Float32Array(g.data.length)
        const sum = sums[k]
        const weight = weights[k]
        for (let j = 0; j < out.length; j++) out[j] = weight[j] > 0 ? g.data[j] + sum[j] / weight[j] : g.data[j]
        return { name: g.name, shape: [...g.shape], dtype: g.dtype, data: castLayer(out, g.dtype) }
      })
    }
  }
}

/**
 * `inner` (plain FedAvg) with its aggregation replaced by the per-coordinate
 * mean over senders; who trains and how is still `inner`'s choice.
 * InvalidConfigError for any other strategy, or one that spends a DP budget:
 * DP-FedAvg's sensitivity analysis needs the fixed denominator.
 */
export function withSenderAveraging (inner: Strategy): StreamingStrategy {
  if (inner.name !== 'fedavg' || inner.privacy !== undefined) {
    throw new InvalidConfigError(`compression.average "senders" averages plain FedAvg updates: it does not run with strategy ${inner.name} (nor with DP)`)
  }
  const fold = (ctx: RoundContext): UpdateFolder => senderAverageFolder(ctx.global)
  return {
    name: inner.name,
    configureRound: (ctx) => inner.configureRound(ctx),
    fold,
    aggregate: aggregateByFolding(fold)
  }
}

/** The coordinator's strategy for a run's compression: `withSenderAveraging(strategy)` for top-k with `average: 'senders'`, else `strategy`. */
export function withUplinkAggregation (strategy: Strategy, compression: Compression | undefined): Strategy {
  return compression?.scheme === 'topk' && compression.average === 'senders' ? withSenderAveraging(strategy) : strategy
}
