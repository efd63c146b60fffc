/**
 * Bucketing (Karimireddy, He and Jaggi, "Byzantine-robust learning on
 * heterogeneous datasets via bucketing", ICLR 2022): before a robust
 * aggregator runs, the round's updates are shuffled into buckets of `s` and
 * each bucket is replaced by its example-weighted mean. Averaging a few
 * clients shrinks the spread that non-IID data puts between honest updates,
 * so the median, trimmed mean or Krum stops discarding honest clients, while
 * attackers (at most one per bucket when they are few) are still outvoted.
 */
import { weightedAverage } from './aggregate.js'
import { createRng, deriveSeed } from '../rng.js'
import { combineLayers } from '../strategy.js'
import type { ClientUpdate } from '../grid.js'
import type { Strategy } from '../strategy.js'

/** Shuffle with `seed` and replace each group of `size` updates by its example-weighted mean (pure). */
export function bucketUpdates (updates: readonly ClientUpdate[], size: number, seed: number): ClientUpdate[] {
  if (size <= 1 || updates.length <= 1) return [...updates]
  const shuffled = createRng(seed).shuffle([...updates])
  const buckets: ClientUpdate[] = []
  for (let i = 0; i < shuffled.length; i += size) {
    const group = shuffled.slice(i, i + size)
    const counts = group.map((u) => Math.max(1, u.numExamples))
    buckets.push({
      clientId: group.map((u) => u.clientId).join('+'),
      weights: combineLayers(group[0].weights, group.map((u) => u.weights), (layers) => weightedAverage(layers, counts)),
      numExamples: counts.reduce((a, b) => a + b, 0),
      metrics: group[0].metrics
    })
  }
  return buckets
}

/** Wrap a (robust) strategy so it aggregates bucket means instead of raw updates. */
export function withBucketing (inner: Strategy, size: number, seed = 0): Strategy {
  if (size <= 1) return inner
  // Not `...inner`: a streaming inner's `fold` would bypass the bucketing.
  return {
    configureRound: (ctx) => inner.configureRound(ctx),
    name: `${inner.name}+bucketing(${size})`,
    aggregate: (ctx, results, failures) => inner.aggregate(ctx, bucketUpdates(results, size, deriveSeed(seed, ctx.round, ctx.attempt)), failures)
  }
}
