/**
 * The control API's bearer token: given (`--api-token`, `EDGE_MESH_API_TOKEN`),
 * read from a file (`--api-token-file`), or, when the API binds beyond
 * loopback and none was given, generated once into `<dataDir>/api.token`
 * (mode 0600) and reused on every restart, as Jupyter and Syncthing do. The
 * node prints the file's path, never the token.
 */
import { randomBytes } from 'node:crypto'
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { InvalidConfigError } from '../errors.js'
import { isLoopbackHost } from './guard.js'

/** File name of a generated token inside the data directory. */
export const API_TOKEN_FILE = 'api.token'
/** Shortest token accepted, characters (a generated one is 43). */
export const MIN_TOKEN_LENGTH = 16

export interface ApiTokenSettings {
  host: string
  dataDir: string
  token?: string
  tokenFile?: string
}

export interface ApiToken {
  /** The token, or undefined when the API is loopback-only and none was configured. */
  token?: string
  /** Where it is stored, when it came from a file. */
  file?: string
  /** True when this start wrote a new one. */
  generated: boolean
}

function checkToken (token: string, from: string): string {
  const trimmed = token.trim()
  if (trimmed.length < MIN_TOKEN_LENGTH || /\s/.test(trimmed)) {
    throw new InvalidConfigError(`apiToken: the token from ${from} must be at least ${MIN_TOKEN_LENGTH} characters with no spaces`)
  }
  return trimmed
}

async function readTokenFile (file: string): Promise<string | undefined> {
  try {
    return checkToken(await readFile(file, 'utf8'), file)
  } catch (err: any) {
    if (err?.code === 'ENOENT') return undefined
    if (err instanceof InvalidConfigError) throw err
    throw new InvalidConfigError(`apiTokenFile: cannot read ${file}: ${err?.message}`)
  }
}

/** Work out the token a node's API requires. */
export async function resolveApiToken (settings: ApiTokenSettings): Promise<ApiToken> {
  if (settings.token != null) return { token: checkToken(settings.token, 'apiToken'), generated: false }
  if (settings.tokenFile != null) {
    const token = await readTokenFile(settings.tokenFile)
    if (token == null) throw new InvalidConfigError(`apiTokenFile: ${settings.tokenFile} not found`)
    return { token, file: settings.tokenFile, generated: false }
  }
  if (isLoopbackHost(settings.host)) return { generated: false }
  const file = join(settings.dataDir, API_TOKEN_FILE)
  const existing = await readTokenFile(file)
  if (existing != null) return { token: existing, file, generated: false }
  const token = randomBytes(32).toString('base64url')
  try {
    await mkdir(settings.dataDir, { recursive: true })
    await writeFile(file, token + '\n', { mode: 0o600, flag: 'wx' })
  } catch (err: any) {
    throw new InvalidConfigError(`apiToken: cannot write ${file}: ${err?.message}`)
  }
  return { token, file, generated: true }
}
