/**
 * The `dp` part of a run: which form of DP-FedAvg (McMahan et al., ICLR 2018)
 * and its parameters, validated in one place for the run spec, the CLI and
 * the library API.
 */
import { InvalidConfigError } from '../../errors.js'
import { DEFAULT_DP_CLIP_NORM, DEFAULT_DP_DELTA, DEFAULT_DP_NOISE_MULTIPLIER } from './constants.js'

/**
 * Client-level differential privacy of a run.
 * - `central`: the coordinator clips every update to `clipNorm` and adds
 *   Gaussian noise of standard deviation `noiseMultiplier * clipNorm / m` once
 *   to the mean of the m sampled clients (protects against everyone who sees
 *   the global models; the coordinator itself sees individual updates).
 * - `local`: every client clips its own update and adds noise of standard
 *   deviation `noiseMultiplier * clipNorm` before sending it (also protects
 *   against the coordinator; the mean is sqrt(m) times noisier).
 */
export interface DpOptions {
  mode: 'central' | 'local'
  /** L2 bound of each client's update (difference to the global model). @default 1 */
  clipNorm?: number
  /** Noise standard deviation over sensitivity, z. @default 1 */
  noiseMultiplier?: number
  /** δ of the reported (ε, δ). @default 1e-5 */
  delta?: number
  /** Stop the run before a round would take ε past this. @default undefined (no limit) */
  targetEpsilon?: number
}

export type ResolvedDpOptions = Required<Omit<DpOptions, 'targetEpsilon'>> & Pick<DpOptions, 'targetEpsilon'>

function field (o: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const v = o[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new InvalidConfigError(`dp.${name}: expected a number from ${min} to ${max}, got ${JSON.stringify(v)}`)
  }
  return v
}

/** Validate a `dp` object from JSON (run spec) and fill its defaults; undefined stays undefined. */
export function parseDpOptions (v: unknown): ResolvedDpOptions | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidConfigError('dp: expected an object { mode, clipNorm?, noiseMultiplier?, delta?, targetEpsilon? }')
  const o = v as Record<string, unknown>
  const mode = o.mode ?? 'central'
  if (mode !== 'central' && mode !== 'local') throw new InvalidConfigError(`dp.mode: expected central or local, got ${JSON.stringify(mode)}`)
  const resolved: ResolvedDpOptions = {
    mode,
    clipNorm: field(o, 'clipNorm', Number.MIN_VALUE, 1e6) ?? DEFAULT_DP_CLIP_NORM,
    noiseMultiplier: field(o, 'noiseMultiplier', 0, 1e6) ?? DEFAULT_DP_NOISE_MULTIPLIER,
    delta: field(o, 'delta', Number.MIN_VALUE, 0.5) ?? DEFAULT_DP_DELTA,
    targetEpsilon: field(o, 'targetEpsilon', Number.MIN_VALUE, 1e6)
  }
  if (resolved.targetEpsilon === undefined) delete resolved.targetEpsilon
  return resolved
}

/** The `privacy` of a run summary received in gossip, checked field by field; undefined when absent or malformed. */
export function parsePrivacySummary (v: unknown): (ResolvedDpOptions & { epsilon: number }) | undefined {
  if (v === null || typeof v !== 'object') return undefined
  const o = v as Record<string, unknown>
  try {
    const dp = parseDpOptions(o)
    const epsilon = o.epsilon
    if (dp === undefined || typeof epsilon !== 'number' || !(epsilon >= 0)) return undefined
    return { ...dp, epsilon }
  } catch {
    return undefined
  }
}
