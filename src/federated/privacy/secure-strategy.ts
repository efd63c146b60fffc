/**
 * Secure aggregation in simulate mode, as a Strategy wrapper: the inner
 * strategy picks clients and settings; aggregation runs one secure
 * aggregation round (secagg/round.ts) over the clients' deltas to the global
 * model, weighted by their example counts, so the coordinator's side of the
 * protocol only ever holds masked vectors and the decoded weighted mean.
 * In this process the clients' side runs too (they are virtual clients);
 * over the mesh the same messages would travel between processes.
 *
 * What it does not compose with: server-side clipping (central DP clips each
 * update, which the server cannot see) and top-k (masks are dense).
 */
import { deriveSeed } from '../rng.js'
import { applyDelta, deltaOf } from './delta.js'
import { runSecAggRound, secAggConfig, seededClientRandom } from './secagg/round.js'
import { flatten, unflatten } from './secagg/vector.js'
import type { SecAggConfigInit } from './secagg/round.js'
import type { Strategy } from '../strategy.js'

export interface SecureAggregationInit extends SecAggConfigInit {
  /** Use seeded client randomness (reproducible simulations); the platform CSPRNG otherwise. @default true */
  seeded?: boolean
  /** Called after each secure round with the protocol's bytes (both directions, masked vectors included). */
  onRound?(stats: { round: number, bytesUp: number, bytesDown: number, survivors: number, dropped: number }): void
}

/** Wrap `inner` so every round is aggregated by secure aggregation (weighted FedAvg of the deltas). */
export function withSecureAggregation (inner: Strategy, init: SecureAggregationInit = {}): Strategy {
  return {
    name: `secagg(${inner.name})`,
    configureRound: (ctx) => inner.configureRound(ctx),
    aggregate (ctx, results) {
      const lengths = ctx.global.map((g) => g.data.length)
      const inputs = results.map((r, i) => ({ id: i + 1, x: flatten(deltaOf(ctx.global, r.weights)), weight: r.numExamples }))
      const config = secAggConfig(inputs.map((i) => i.id), lengths.reduce((a, b) => a + b, 0), { ...init, graphSeed: init.graphSeed ?? deriveSeed(ctx.seed, 0x5EC, ctx.round) })
      const random = init.seeded === false ? undefined : seededClientRandom(deriveSeed(ctx.seed, 0x5EC, ctx.round, ctx.attempt))
      const r = runSecAggRound(config, inputs, { random })
      init.onRound?.({ round: ctx.round, bytesUp: r.bytesUp, bytesDown: r.bytesDown, survivors: r.survivors.length, dropped: r.dropped.length })
      return applyDelta(ctx.global, unflatten(r.mean, lengths))
    }
  }
}
