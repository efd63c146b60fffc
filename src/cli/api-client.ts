/** Talking to a node's control API from the CLI. */
import { ApiUnreachableError } from '../errors.js'
import { DEFAULT_API_HOST, DEFAULT_API_PORT } from '../node/constants.js'

export const DEFAULT_API_URL = `http://${DEFAULT_API_HOST}:${DEFAULT_API_PORT}`

/** Call the API; an `{ error }` body is rethrown as an error with the same name. */
export async function callApi (base: string, path: string, init: RequestInit = {}): Promise<any> {
  let res: Response
  try {
    res = await fetch(new URL(path, base), { ...init, signal: init.signal ?? AbortSignal.timeout(600_000) })
  } catch (err: any) {
    throw new ApiUnreachableError(`cannot reach the control API at ${base} (${err?.cause?.code ?? err?.message}); is a node running? pass --api <url>`)
  }
  const text = await res.text()
  let body: any
  try { body = JSON.parse(text) } catch { body = text }
  if (!res.ok) {
    const err = new Error(body?.error?.message ?? `HTTP ${res.status}`)
    err.name = body?.error?.name ?? 'Error'
    throw err
  }
  return body
}
