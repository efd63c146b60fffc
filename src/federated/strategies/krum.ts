/**
 * Krum and Multi-Krum (Blanchard et al. 2017). Each update is scored by the
 * sum of squared distances (over all layers) to its `n - f - 2` nearest
 * neighbours; Krum keeps the single best update, Multi-Krum averages the `m`
 * best, weighted by example counts. With fewer than 3 updates Krum cannot
 * score anything and the updates are averaged (logged).
 */
import { InvalidConfigError } from '../../errors.js'
import { maxKrumByzantine, multiKrumSelect, weightedAverage } from './aggregate.js'
import { combineLayers, configureSampled, resolveTrainOptions } from '../strategy.js'
import type { LocalTrainOptions, Strategy } from '../strategy.js'

export interface KrumOptions extends LocalTrainOptions {
  /**
   * Byzantine updates tolerated per round. Clamped to what the round's update
   * count allows (`n - f - 2 >= 1`). @default floor((n - 3) / 2)
   */
  f?: number
  /** Updates kept and averaged: 1 is Krum, more is Multi-Krum. Capped at n. @default 1 */
  m?: number
}

/** Create the Krum / Multi-Krum strategy. */
export function krum (options: KrumOptions = {}): Strategy {
  const train = resolveTrainOptions(options)
  const m = options.m ?? 1
  if (!Number.isInteger(m) || m < 1) throw new InvalidConfigError(`Multi-Krum m must be an integer >= 1, got ${m}`)
  if (options.f !== undefined && !(Number.isInteger(options.f) && options.f >= 0)) {
    throw new InvalidConfigError(`Krum f must be an integer >= 0, got ${options.f}`)
  }
  return {
    name: m === 1 ? 'krum' : 'multikrum',
    configureRound: (ctx) => configureSampled(ctx, train),
    aggregate (ctx, results) {
      const n = results.length
      let chosen = results
      if (n >= 3) {
        const f = Math.min(options.f ?? maxKrumByzantine(n), n - 3)
        const names = ctx.global.map((g) => g.name)
        const flat = results.map((r) => {
          const byName = new Map(r.weights.map((t) => [t.name, t.data]))
          return names.map((name) => byName.get(name) ?? new Float32Array(0))
        })
        chosen = multiKrumSelect(flat, f, Math.min(m, n)).map((i) => results[i])
      } else {
        ctx.log?.('round %d: %d updates are too few for Krum (needs 3), averaging them', ctx.round, n)
      }
      const counts = chosen.map((r) => r.numExamples)
      return combineLayers(ctx.global, chosen.map((r) => r.weights), (layers) => weightedAverage(layers, counts))
    }
  }
}
