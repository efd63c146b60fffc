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
 */
import { createRng, deriveSeed } from '../rng.js'
import { RdpAccountant } from './accountant.js'
import { addGaussianInPlace, applyDelta, clipInPlace, deltaOf } from './delta.js'
import type { ResolvedDpOptions } from './dp-options.js'
import type { Delta } from './delta.js'
import type { RoundPrivacy } from '../run-types.js'
import type { PrivacyLedger, Strategy } from '../strategy.js'
import type { Rng } from '../rng.js'
import type { WeightRecord } from '../../model/types.js'

/** Seed stream of the coordinator's DP noise (kept apart from sampling and training seeds). */
const NOISE_STREAM = 0xD1FF

/** Sum the deltas and divide by the fixed denominator `m`. */
function fixedDenominatorMean (deltas: readonly Delta[], m: number): Delta {
  return deltas[0].map((first, l) => {
    const acc = new Float64Array(first.length)
    for (const d of deltas) for (let i = 0; i < acc.length; i++) acc[i] += d[l][i]
    return Float32Array.from(acc, (v) => v / m)
  })
}

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
export function withDp (inner: Strategy, dp: ResolvedDpOptions): Strategy {
  const book = ledger(dp, new RdpAccountant())
  return {
    name: `dp-${dp.mode}(${inner.name})`,
    privacy: book,
    configureRound: (ctx) => inner.configureRound(ctx),
    aggregate (ctx, results) {
      const m = Math.max(ctx.sampleSize, results.length)
      const deltas = results.map((r) => deltaOf(ctx.global, r.weights))
      // local updates arrive noised: clipping them again would scale the noise and the signal down alike
      if (dp.mode === 'central') for (const d of deltas) clipInPlace(d, dp.clipNorm)
      const mean = fixedDenominatorMean(deltas, dp.mode === 'central' ? m : results.length)
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
