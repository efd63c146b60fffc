/**
 * Talking to a node's control API from the CLI. A node's API token comes
 * from `--api-token-file`, `EDGE_MESH_API_TOKEN_FILE` or `EDGE_MESH_API_TOKEN`
 * (the same variable a node reads its token from), and travels as
 * `Authorization: Bearer <token>`.
 */
import { readFileSync } from 'node:fs'
import { ApiUnreachableError, InvalidConfigError } from '../errors.js'
import { DEFAULT_API_HOST, DEFAULT_API_PORT } from '../node/constants.js'
import { UsageError } from './errors.js'

export const DEFAULT_API_URL = `http://${DEFAULT_API_HOST}:${DEFAULT_API_PORT}`

/** Help line of the client's token flag. */
export const API_TOKEN_HELP = '  --api-token-file <file>  the node\'s API token (or EDGE_MESH_API_TOKEN / EDGE_MESH_API_TOKEN_FILE)'

/** The token to send: a file named by flag or environment, else EDGE_MESH_API_TOKEN; undefined when none. */
export function apiToken (tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = tokenFile ?? (env.EDGE_MESH_API_TOKEN_FILE !== '' ? env.EDGE_MESH_API_TOKEN_FILE : undefined)
  if (file != null) {
    try {
      return readFileSync(file, 'utf8').trim()
    } catch (err: any) {
      throw new InvalidConfigError(`api token file ${file}: ${err?.code === 'ENOENT' ? 'not found' : err?.message}`)
    }
  }
  const token = env.EDGE_MESH_API_TOKEN?.trim()
  return token === '' ? undefined : token
}

/** Throw a UsageError suggesting `http://…` when `base` (from `--api` or EDGE_MESH_API) is not an http(s) URL. */
export function checkApiUrl (base: string): void {
  if (/^https?:\/\/[^/]/i.test(base)) return
  const hint = /^[\w.-]+(:\d+)?\/?$/.test(base) || /^\[[\da-f:]+\](:\d+)?\/?$/i.test(base) ? `; did you mean http://${base}?` : ''
  throw new UsageError(`--api expects a URL such as ${DEFAULT_API_URL}, got "${base}"${hint}`)
}

/** Call the API; an `{ error }` body is rethrown as an error with the same name. */
export async function callApi (base: string, path: string, init: RequestInit = {}, token: string | undefined = apiToken(undefined)): Promise<any> {
  checkApiUrl(base)
  let res: Response
  const headers = new Headers(init.headers)
  if (token != null) headers.set('authorization', `Bearer ${token}`)
  try {
    res = await fetch(new URL(path, base), { ...init, headers, signal: init.signal ?? AbortSignal.timeout(600_000) })
  } catch (err: any) {
    throw new ApiUnreachableError(`cannot reach the control API at ${base} (${err?.cause?.code ?? err?.message}); is a node running? pass --api <url>`)
  }
  const text = await res.text()
  let body: any
  try { body = JSON.parse(text) } catch { body = text }
  if (!res.ok) {
    const err: Error & { attempts?: unknown[] } = new Error(body?.error?.message ?? `HTTP ${res.status}`)
    err.name = body?.error?.name ?? 'Error'
    // Failed inference requests list what was tried (DeadlineExceededError, AllPeersFailedError).
    if (Array.isArray(body?.error?.attempts)) err.attempts = body.error.attempts
    throw err
  }
  return body
}
