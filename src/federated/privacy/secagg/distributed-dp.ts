/**
 * Central DP-FedAvg under secure aggregation, with distributed noise: the
 * coordinator can no longer clip each update nor add noise to a sum it never
 * sees unnoised, so each of the m clients of a round clips its delta to C and
 * adds its share N(0, (zC)^2 / m) of the noise before masking, with weight 1
 * (DP-FedAvg's unweighted mean). The unmasked sum of m clients then carries
 * exactly central DP-FedAvg's N(0, (zC)^2); the coordinator divides by the
 * fixed denominator m.
 *
 * Caveat (stated in docs/privacy.md): when only s < m clients survive, the
 * sum holds s shares, variance (s/m)(zC)^2: the round is accounted with the
 * smaller noise multiplier z·sqrt(s/m), so dropouts cost ε. The noise comes
 * from a ChaCha20 stream under a fresh 32-byte seed from the platform CSPRNG
 * (`expandMask`), through the Box-Muller transform in float64.
 */
import { randomBytes } from '@noble/hashes/utils.js'
import { RdpAccountant } from '../accountant.js'
import { expandMask } from './crypto.js'
import type { ResolvedDpOptions } from '../dp-options.js'
import type { PrivacyLedger, Strategy } from '../../strategy.js'
import type { RoundPrivacy } from '../../run-types.js'

/** What one client of an m-client round adds: clip to `clipNorm`, then N(0, noiseStd^2) per value. */
export interface ClientNoise { clipNorm: number, noiseStd: number }

/** Each client's share of the noise of an m-client round. */
export function clientNoise (dp: Pick<ResolvedDpOptions, 'clipNorm' | 'noiseMultiplier'>, m: number): ClientNoise {
  return { clipNorm: dp.clipNorm, noiseStd: dp.noiseMultiplier * dp.clipNorm / Math.sqrt(m) }
}

/** Standard normal values from a ChaCha20 stream under a fresh random seed (Box-Muller, 53-bit uniforms). */
function secureNormals (n: number): Float64Array {
  const words = expandMask(randomBytes(32), 4 * Math.ceil(n / 2))
  const out = new Float64Array(n)
  const uniform = (k: number): number => ((words[k] >>> 5) * 67_108_864 + (words[k + 1] >>> 6) + 1) / 9_007_199_254_740_993
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform(2 * i)))
    const t = 2 * Math.PI * uniform(2 * i + 2)
    out[i] = r * Math.cos(t)
    if (i + 1 < n) out[i + 1] = r * Math.sin(t)
  }
  return out
}

/** Clip `delta` (in place) to L2 norm `clipNorm` and add N(0, noiseStd^2) to every value. */
export function privatizeInPlace (delta: Float32Array, noise: ClientNoise): void {
  let sum = 0
  for (let i = 0; i < delta.length; i++) sum += delta[i] * delta[i]
  const scale = Math.min(1, noise.clipNorm / Math.sqrt(sum))
  const normals = secureNormals(delta.length)
  for (let i = 0; i < delta.length; i++) delta[i] = delta[i] * scale + noise.noiseStd * normals[i]
}

/** The fixed-point bound that holds a clipped, noised value but for ~1e-15 of them: C + 8σ. */
export function noisyBound (noise: ClientNoise): number {
  return noise.clipNorm + 8 * noise.noiseStd
}

/**
 * The strategy of a secure DP run: the one securely aggregated update already
 * is the noised fixed-denominator mean (its `numExamples` is the survivors'
 * count s); this accounts the round with q = m/K and z·sqrt(s/m).
 */
export function withDistributedDp (inner: Strategy, dp: ResolvedDpOptions): Strategy {
  const accountant = new RdpAccountant()
  let last: RoundPrivacy | undefined
  const charge = (sampleRate: number, noiseMultiplier: number): void => {
    accountant.step({ sampleRate, noiseMultiplier })
    last = { epsilon: accountant.spent(dp.delta).epsilon, delta: dp.delta, sampleRate, noiseMultiplier }
  }
  const privacy: PrivacyLedger = {
    last: () => last,
    exhausted: (sampleRate) => dp.targetEpsilon !== undefined && accountant.peek({ sampleRate, noiseMultiplier: dp.noiseMultiplier }, dp.delta) > dp.targetEpsilon,
    restore (records) {
      for (const r of records) if (r.privacy !== undefined) charge(r.privacy.sampleRate, r.privacy.noiseMultiplier)
    }
  }
  return {
    name: `dp-distributed(${inner.name})`,
    privacy,
    configureRound: (ctx) => inner.configureRound(ctx),
    aggregate (ctx, results) {
      const m = Math.max(1, Math.min(ctx.sampleSize, ctx.clients.length))
      const survivors = Math.min(m, results[0].numExamples)
      charge(ctx.clients.length === 0 ? 1 : Math.min(1, ctx.sampleSize / ctx.clients.length), dp.noiseMultiplier * Math.sqrt(survivors / m))
      return results[0].weights
    }
  }
}
