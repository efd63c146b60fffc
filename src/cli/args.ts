/** Strict flag parsing on top of node:util parseArgs, with UsageError on anything unknown. */
import { parseArgs } from 'node:util'
import { UsageError } from './errors.js'
import { closest } from './suggest.js'
import type { ParseArgsConfig } from 'node:util'

export type FlagSpec = NonNullable<ParseArgsConfig['options']>

export function parseFlags (argv: string[], options: FlagSpec, allowPositionals = false): { values: Record<string, any>, positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals, allowNegative: true })
    return { values: values as Record<string, any>, positionals }
  } catch (err: any) {
    const message = String(err?.message ?? err).replace(/\. To specify a positional argument.*$/, '')
    throw new UsageError(message + suggestion(message, options))
  }
}

/** ` (did you mean --x?)` for an unknown option close to a known one (booleans also as `--no-x`). */
function suggestion (message: string, options: FlagSpec): string {
  const unknown = /^Unknown option '--([^'=]+)'/.exec(message)?.[1]
  if (unknown == null) return ''
  const names = Object.entries(options).flatMap(([name, spec]) => spec.type === 'boolean' ? [name, `no-${name}`] : [name])
  const best = closest(unknown, names)
  return best == null ? '' : ` (did you mean --${best}?)`
}

/** Parse a whole number flag or throw a UsageError naming it. */
export function intFlag (name: string, value: unknown, min: number, max: number): number | undefined {
  if (value == null) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} expects a whole number from ${min} to ${max}, got "${String(value)}"`)
  return n
}

/** Parse a number flag or throw a UsageError naming it. */
export function numberFlag (name: string, value: unknown, min: number, max: number): number | undefined {
  if (value == null) return undefined
  const n = Number(value)
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} expects a number from ${min} to ${max}, got "${String(value)}"`)
  return n
}
