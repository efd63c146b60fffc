/**
 * The `secureAggregation` field of a run spec (`POST /federated/runs`,
 * START, `edge-mesh train --secagg`), validated in one place. Every field is
 * optional; `{}` asks for SecAgg+ with the defaults.
 */
import { InvalidConfigError } from '../../../errors.js'
import { MAX_SECAGG_BOUND, MAX_SECAGG_NEIGHBOURS, MAX_SECAGG_TOTAL_WEIGHT } from './constants.js'
import type { SecureRunOptions } from './workflow.js'

function field (o: Record<string, unknown>, key: keyof SecureRunOptions, min: number, max: number, integer: boolean): number | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new InvalidConfigError(`secureAggregation.${key}: expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(v)}`)
  }
  return v
}

/** Validate a run spec's `secureAggregation`; undefined when absent or `false`, `{}` for `true`. */
export function parseSecureAggregation (value: unknown): SecureRunOptions | undefined {
  if (value === undefined || value === null || value === false) return undefined
  if (value === true) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidConfigError('secureAggregation: expected an object such as {"threshold": 3}, or true')
  const o = value as Record<string, unknown>
  const out: SecureRunOptions = {
    threshold: field(o, 'threshold', 1, MAX_SECAGG_NEIGHBOURS, true),
    neighbours: field(o, 'neighbours', 1, MAX_SECAGG_NEIGHBOURS, true),
    bound: field(o, 'bound', Number.MIN_VALUE, MAX_SECAGG_BOUND, false),
    maxTotalWeight: field(o, 'maxTotalWeight', 1, MAX_SECAGG_TOTAL_WEIGHT, true),
    stageTimeoutMs: field(o, 'stageTimeoutMs', 100, 600_000, true)
  }
  if (out.threshold !== undefined && out.neighbours !== undefined && out.threshold > out.neighbours) throw new InvalidConfigError(`secureAggregation.threshold: ${out.threshold} exceeds neighbours ${out.neighbours}`)
  for (const key of Object.keys(out) as Array<keyof SecureRunOptions>) if (out[key] === undefined) delete out[key]
  return out
}

/**
 * Refuse what does not compose with secure aggregation over the mesh: only
 * FedAvg aggregates a sum (robust rules need each update); DP runs only in
 * its central form, by distributed noise (`distributed-dp.ts`, docs/privacy.md).
 */
export function checkSecureComposition (strategy: string, dp: { mode: string } | undefined): void {
  if (strategy !== 'fedavg') throw new InvalidConfigError(`secureAggregation: the coordinator only learns the sum of the updates, which strategy ${strategy} cannot aggregate; use fedavg`)
  if (dp !== undefined && dp.mode !== 'central') throw new InvalidConfigError(`secureAggregation: dp mode ${dp.mode} does not compose; central DP runs with distributed noise`)
}
