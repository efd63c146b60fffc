/**
 * Experiment-only byzantine behaviour of a participant node (`--byzantine`).
 *
 * Attacks never travel on the wire: a coordinator cannot tell a peer to
 * poison its updates. A node started with `--byzantine <attack>` misbehaves
 * on its own, for every run it trains for, which is what mesh-mode
 * robustness experiments and fault tests need. The memory grid's simulated
 * clients wrap training the same way (`attacks.ts`).
 *
 * ```
 * byzantine = name *(":" opt)
 * name      = "signflip" | "scale" | "noise" | "labelflip" | "nan" | "wrong-shape"
 * opt       = "scale=" number | "noise=" number
 * ```
 *
 * `nan` and `wrong-shape` are malformed updates for tests of the
 * coordinator's validation.
 */
import { InvalidConfigError } from '../../errors.js'
import { ATTACK_NAMES, attackUpdate, flipLabels } from '../simulation/attacks.js'
import { createRng } from '../rng.js'
import type { AttackName } from '../simulation/attacks.js'
import type { Dataset, WeightRecord } from '../../model/types.js'

/** Malformed-update behaviours for tests of the coordinator's validation (never useful otherwise). */
export const FAULT_ATTACKS = ['nan', 'wrong-shape'] as const

/** A participant's own byzantine behaviour. */
export interface ByzantineBehaviour {
  name: AttackName | typeof FAULT_ATTACKS[number]
  scale?: number
  noiseStd?: number
}

/** Parse a `--byzantine` value. */
export function parseByzantine (text: string): ByzantineBehaviour {
  const [name, ...opts] = text.trim().split(':')
  if (!([...ATTACK_NAMES, ...FAULT_ATTACKS] as readonly string[]).includes(name)) {
    throw new InvalidConfigError(`byzantine: unknown attack "${name}", expected one of ${[...ATTACK_NAMES, ...FAULT_ATTACKS].join(', ')}`)
  }
  const out: ByzantineBehaviour = { name: name as ByzantineBehaviour['name'] }
  for (const opt of opts) {
    const [key, value] = opt.split('=')
    const n = Number(value)
    if (value === undefined || value === '' || !Number.isFinite(n)) throw new InvalidConfigError(`byzantine: option "${opt}" needs a number`)
    if (key === 'scale') out.scale = n
    else if (key === 'noise' && n >= 0) out.noiseStd = n
    else throw new InvalidConfigError(`byzantine: unknown option "${opt}" (scale=<x>, noise=<std>)`)
  }
  return out
}

/** The data a byzantine client trains on (flipped labels for `labelflip`). */
export function byzantineData (b: ByzantineBehaviour | undefined, data: Dataset): Dataset {
  return b?.name === 'labelflip' ? flipLabels(data) : data
}

/** Turn an honest result into the byzantine one. */
export function byzantineUpdate (b: ByzantineBehaviour | undefined, global: WeightRecord, trained: WeightRecord, seed: number): WeightRecord {
  if (b === undefined || b.name === 'labelflip') return trained
  if (b.name === 'nan') return trained.map((t, i) => (i === 0 ? { ...t, data: Float32Array.from(t.data, (v, j) => (j === 0 ? Number.NaN : v)) } : t))
  if (b.name === 'wrong-shape') return [{ name: trained[0].name, shape: [1], dtype: 'float32', data: new Float32Array(1) }, ...trained.slice(1)]
  return attackUpdate(b.name, global, trained, createRng(seed), { scale: b.scale, noiseStd: b.noiseStd })
}
