/**
 * The one place where failures become what a CLI user sees: a one-line
 * message on stderr and an exit code. No stack traces unless EDGE_MESH_DEBUG is set.
 */
import { printable } from './output.js'

/** A command-line usage problem (unknown flag, missing argument). */
export class UsageError extends Error {
  static override readonly name = 'UsageError'
  override name = 'UsageError'
}

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
export const EXIT_PORT_IN_USE = 3
export const EXIT_UNREACHABLE = 4
/** Another node holds the data directory's lock. */
export const EXIT_DATA_DIR_LOCKED = 5
/** The control API refused the CLI's request for a missing or wrong token. */
export const EXIT_UNAUTHORIZED = 6

const EXIT_BY_NAME: Record<string, number> = {
  UsageError: EXIT_USAGE,
  InvalidConfigError: EXIT_USAGE,
  InvalidMultiaddrError: EXIT_USAGE,
  PortInUseError: EXIT_PORT_IN_USE,
  ApiUnreachableError: EXIT_UNREACHABLE,
  DataDirLockedError: EXIT_DATA_DIR_LOCKED,
  UnauthorizedError: EXIT_UNAUTHORIZED
}

export function exitCodeFor (err: unknown): number {
  return EXIT_BY_NAME[err instanceof Error ? err.name : ''] ?? EXIT_FAILURE
}

/**
 * `edge-mesh: <message>` plus a hint for usage errors. Messages can quote
 * what peers sent (model names, error texts): each line is made printable.
 */
export function formatError (err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err)).split('\n').map(printable).join('\n')
  const name = err instanceof Error ? err.name : ''
  const hint = name === 'UsageError' ? ' (see edge-mesh --help)' : ''
  const label = name !== '' && name !== 'Error' && name !== 'UsageError' ? `${name}: ` : ''
  return `edge-mesh: ${label}${message}${hint}`
}

/** Print the error the CLI way and exit. */
export function exitWithError (err: unknown): never {
  process.stderr.write(formatError(err) + '\n')
  if (process.env.EDGE_MESH_DEBUG != null && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`)
  process.exit(exitCodeFor(err))
}
