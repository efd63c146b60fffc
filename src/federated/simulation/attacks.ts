/**
 * Byzantine client behaviours for robustness experiments, wrapped around
 * honest training by the memory grid:
 *
 * - `labelflip`: the client trains honestly on flipped labels (y -> C - 1 - y);
 * - `signflip`: it sends `g - (w - g)`, the honest update reversed;
 * - `scale`: it sends `g + s * (w - g)` with `s` = 10 by default (boosting);
 * - `noise`: it sends `w + N(0, sigma^2)` per value, `sigma` = 1 by default.
 *
 * Here `g` is the global weights it received and `w` its honest result.
 */
import { InvalidConfigError } from '../../errors.js'
import { DEFAULT_ATTACK_NOISE_STD, DEFAULT_ATTACK_SCALE } from '../constants.js'
import type { Rng } from '../rng.js'
import type { Dataset, WeightRecord } from '../../model/types.js'

export const ATTACK_NAMES = ['signflip', 'scale', 'noise', 'labelflip'] as const

/** A byzantine behaviour. */
export type AttackName = typeof ATTACK_NAMES[number]

export interface AttackOptions {
  /** Multiplier of `scale`. @default 10 */
  scale?: number
  /** Standard deviation of `noise`. @default 1 */
  noiseStd?: number
}

/** Check an attack name from configuration. */
export function parseAttack (name: string): AttackName {
  if ((ATTACK_NAMES as readonly string[]).includes(name)) return name as AttackName
  throw new InvalidConfigError(`unknown attack "${name}", expected one of ${ATTACK_NAMES.join(', ')}`)
}

/** A copy of the data set with every label `y` replaced by `numClasses - 1 - y`. */
export function flipLabels (data: Dataset): Dataset {
  const y = new Int32Array(data.y.length)
  for (let i = 0; i < y.length; i++) y[i] = data.numClasses - 1 - data.y[i]
  return { ...data, y }
}

/**
 * Transform an honest result `trained` (started from `global`) according to the
 * attack. `labelflip` acts on data, not on weights, so it returns `trained` unchanged.
 */
export function attackUpdate (attack: AttackName, global: WeightRecord, trained: WeightRecord, rng: Rng, options: AttackOptions = {}): WeightRecord {
  if (attack === 'labelflip') return trained
  const scale = attack === 'signflip' ? -1 : (options.scale ?? DEFAULT_ATTACK_SCALE)
  const std = options.noiseStd ?? DEFAULT_ATTACK_NOISE_STD
  const g = new Map(global.map((t) => [t.name, t.data]))
  return trained.map((t) => {
    const base = g.get(t.name)
    const out = new Float32Array(t.data.length)
    const w = t.data
    if (attack === 'noise' || base === undefined) {
      for (let i = 0; i < out.length; i++) out[i] = w[i] + (attack === 'noise' ? std * rng.normal() : 0)
    } else {
      for (let i = 0; i < out.length; i++) out[i] = base[i] + scale * (w[i] - base[i])
    }
    return { ...t, shape: [...t.shape], data: t.dtype === 'int32' ? Int32Array.from(out, Math.round) : out }
  })
}
