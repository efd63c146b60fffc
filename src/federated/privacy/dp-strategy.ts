/**
 * DP-FedAvg (McMahan et al., "Learning Differentially Private Recurrent
 * Language Models", ICLR 2018) as a Strategy wrapper: the inner strategy picks
 * the clients and their training settings; aggregation becomes the clipped,
 * unweighted mean of the client deltas with the fixed denominator m (the
 * round's sample size), plus Gaussian noise in the central form. An RDP
 * accountant charges one sampled Gaussian step with q = m / K per aggregated
 * round, and the run loop asks it before each round whether the target ε allows
 * one more.
 *
 * Sampling is a fixed-size sample without replacement, accounted as Poisson
 * sampling with q = m/K (what Flower, TF Federated and most papers do).
 *
 * The wrapper streams (`fold`): each accepted update is clipped and added to
 * a running float64 sum of deltas as it arrives, and the noise is added once
 * to the mean, so a round holds O(model) memory however many clients take
 * part (no `maxBufferedUpdates` limit, as for plain FedAvg).
 */
import { InvalidUpdateError } from '../../errors.js'
import { createRng, deriveSeed } from '../rng.js'
import { RdpAccountant } from './accountant.js'
import { addGaussianInPlace, applyDelta, clipInPlace, deltaOf } from './delta.js'
import type { ResolvedDpOptions } from './dp-options.js'
import type { RoundPrivacy } from '../run-types.js'
import type { PrivacyLedger, RoundContext, Strategy } from '../strategy.js'
import { aggregateByFolding } from '../streaming.js'
import type { StreamingStrategy, UpdateFolder } from '../streaming.js'
import type { Rng } from '../rng.js'
import type { WeightRecord } from '../../model/types.js'

/** Seed stream of the coordinator's DP noise (kept apart from sampling and training seeds). */
const NOISE_STREAM = 0xD1FF


function ledger (dp: ResolvedDpOptions, accountant: RdpAccountant): PrivacyLedger & { charge(sampleRate: number): void } {
  let last: RoundPrivacy | undefined
  const charge = (sampleRate: number): void => {
    accountant.step({ sampleRate, noiseMultiplier: dp.noiseMultiplier })
    last = { epsilon: accountant.spent(dp.delta).epsilon, delta: dp.delta, sampleRate, noiseMultiplier: dp.noiseMultiplier }
  }
  return {
    charge,
    last: () => last,
    exhausted: (sampleRate) => dp.targetEpsilon !== undefined && accountant.peek({ sampleRate, noiseMultiplier: dp.noiseMultiplier }, dp.delta) > dp.targetEpsilon,
    restore (records) {
      for (const r of records) if (r.privacy !== undefined) charge(r.privacy.sampleRate)
    }
  }
}

/**
 * The central or local form of DP-FedAvg around `inner` (normally FedAvg).
 * In the local form the clients have already clipped and noised their
 * updates (see `privatizeUpdate`); the coordinator only averages and accounts.
 *
 * @example
 * ```ts
 * const strategy = withDp(fedAvg(), { mode: 'central', clipNorm: 1, noiseMultiplier: 1, delta: 1e-5, targetEpsilon: 4 })
 * ```
 */
export function withDp (inner: Strategy, dp: ResolvedDpOptions): StreamingStrategy {
  const book = ledger(dp, new RdpAccountant())
  const fold = (ctx: RoundContext): UpdateFolder => dpFolder(ctx, dp, book)
  return {
    name: `dp-${dp.mode}(${inner.name})`,
    privacy: book,
    configureRound: (ctx) => inner.configureRound(ctx),
    fold,
    aggregate: aggregateByFolding(fold)
  }
}

/**
 * One round of DP-FedAvg, update by update: clip each delta (central form;
 * local updates arrive clipped and noised, and clipping them again would
 * scale noise and signal down alike), sum in float64, then divide by the
 * fixed denominator m (central) or the count (local), add the central noise
 * once and charge the accountant.
 */
function dpFolder (ctx: RoundContext, dp: ResolvedDpOptions, book: ReturnType<typeof ledger>): UpdateFolder {
  const sums = ctx.global.map((g) => new Float64Array(g.data.length))
  let count = 0
  return {
    add (update) {
      const delta = deltaOf(ctx.global, update.weights)
      if (dp.mode === 'central') clipInPlace(delta, dp.clipNorm)
      for (let l = 0; l < sums.length; l++) {
        const sum = sums[l]
        const d = delta[l]
        for (let i = 0; i < sum.length; i++) sum[i] += d[i]
      }
      count++
    },
    result () {
      if (count === 0) throw new InvalidUpdateError('nothing to aggregate: no updates')
      const m = dp.mode === 'central' ? Math.max(ctx.sampleSize, count) : count
      const mean = sums.map((sum) => Float32Array.from(sum, (v) => v / m))
      if (dp.mode === 'central') {
        const rng = createRng(deriveSeed(ctx.seed, NOISE_STREAM, ctx.round, ctx.attempt))
        addGaussianInPlace(mean, (dp.noiseMultiplier * dp.clipNorm) / m, rng.normal)
      }
      book.charge(ctx.clients.length === 0 ? 1 : Math.min(1, ctx.sampleSize / ctx.clients.length))
      return applyDelta(ctx.global, mean)
    }
  }
}

/**
 * The client's side of local DP-FedAvg: clip the update's delta to `clipNorm`
 * and add N(0, (noiseMultiplier * clipNorm)^2) to every value.
 */
export function privatizeUpdate (global: WeightRecord, weights: WeightRecord, dp: Pick<ResolvedDpOptions, 'clipNorm' | 'noiseMultiplier'>, rng: Rng): WeightRecord {
  const delta = deltaOf(global, weights)
  clipInPlace(delta, dp.clipNorm)
  addGaussianInPlace(delta, dp.noiseMultiplier * dp.clipNorm, rng.normal)
  return applyDelta(global, delta)
}
