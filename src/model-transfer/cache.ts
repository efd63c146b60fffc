/**
 * On-disk cache of fetched models' canonical artifacts, bounded in bytes with
 * least-recently-used eviction.
 *
 * Layout: `<dir>/<content id>/model.json` and `<dir>/<content id>/weights.bin`.
 * An entry is written (and fsynced, `src/atomic-write.ts`) to a temporary
 * directory and renamed into place, so a crash never leaves a half-written
 * entry under a content id. Recency is the mtime of `model.json` (touched on every read), so the order survives restarts.
 * Artifacts are not trusted on the way back in: the caller loads them with
 * `expectedId`, which checks the content id again.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { defaultLogger } from '@libp2p/logger'
import { syncDir, writeFileSynced } from '../atomic-write.js'
import { InvalidModelError } from '../errors.js'
import { DEFAULT_MODEL_CACHE_BYTES } from './constants.js'
import type { ModelArtifacts } from '../model/types.js'
import type { Logger } from '@libp2p/interface'

const MODEL_JSON = 'model.json'
const WEIGHTS = 'weights.bin'
/** The model's name as the peer it came from called it (optional; absent in entries written before names were kept). */
const NAME_FILE = 'name.txt'
const TMP_PREFIX = '.tmp-'
/** Content ids become directory names: no separators, no dot-only names. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

export interface ModelCacheInit {
  /** Directory of the cache; created when missing. */
  dir: string
  /** Byte bound of all entries. @default 1 GiB */
  maxBytes?: number
  /** The owner's logger. @default a logger of its own (`edge-mesh:model-cache`) */
  log?: Logger
}

function checkId (id: string): void {
  if (!SAFE_ID.test(id)) throw new InvalidModelError(`content id ${JSON.stringify(id)} cannot name a cache entry`)
}

export class ModelCache {
  readonly dir: string
  readonly maxBytes: number
  private readonly log: Logger
  /** Entry sizes in recency order, least recently used first. */
  private readonly entries = new Map<string, number>()

  constructor (init: ModelCacheInit) {
    this.dir = init.dir
    this.maxBytes = init.maxBytes ?? DEFAULT_MODEL_CACHE_BYTES
    this.log = init.log ?? defaultLogger().forComponent('edge-mesh:model-cache')
  }

  /** Create the directory, drop leftovers of interrupted writes and index the entries by recency. */
  async open (): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    const found: Array<{ id: string, bytes: number, usedAt: number }> = []
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name)
      if (name.startsWith(TMP_PREFIX)) {
        await rm(path, { recursive: true, force: true })
        continue
      }
      if (!SAFE_ID.test(name)) continue
      try {
        const [json, weights] = await Promise.all([stat(join(path, MODEL_JSON)), stat(join(path, WEIGHTS))])
        found.push({ id: name, bytes: json.size + weights.size, usedAt: json.mtimeMs })
      } catch {
        this.log('dropping incomplete cache entry %s', name)
        await rm(path, { recursive: true, force: true })
      }
    }
    found.sort((a, b) => a.usedAt - b.usedAt)
    this.entries.clear()
    for (const entry of found) this.entries.set(entry.id, entry.bytes)
    await this.evict()
  }

  /** Content ids of the entries, least recently used first. */
  ids (): string[] {
    return [...this.entries.keys()]
  }

  has (id: string): boolean {
    return this.entries.has(id)
  }

  get totalBytes (): number {
    let total = 0
    for (const bytes of this.entries.values()) total += bytes
    return total
  }

  /** Read an entry and mark it most recently used; `undefined` when absent or unreadable. */
  async get (id: string): Promise<ModelArtifacts | undefined> {
    if (!this.entries.has(id)) return undefined
    const path = join(this.dir, id)
    try {
      const [modelJson, weights] = await Promise.all([readFile(join(path, MODEL_JSON)), readFile(join(path, WEIGHTS))])
      await this.touch(id)
      return { modelJson: new Uint8Array(modelJson), weights: new Uint8Array(weights) }
    } catch (err) {
      this.log('cache entry %s unreadable, dropping it: %e', id, err)
      await this.delete(id)
      return undefined
    }
  }

  /** The model's name stored with an entry (`name.txt`), if any. */
  async nameOf (id: string): Promise<string | undefined> {
    if (!this.entries.has(id)) return undefined
    try {
      const name = (await readFile(join(this.dir, id, NAME_FILE), 'utf8')).trim()
      return name === '' ? undefined : name
    } catch {
      return undefined
    }
  }

  /** Store an entry (replacing one with the same id) and the model's name, then evict down to the bound. Entries above the bound are not stored. */
  async put (id: string, artifacts: ModelArtifacts, name?: string): Promise<void> {
    checkId(id)
    const bytes = artifacts.modelJson.length + artifacts.weights.length
    if (bytes > this.maxBytes) {
      this.log('model %s (%d bytes) exceeds the cache bound, not cached', id, bytes)
      return
    }
    const tmp = join(this.dir, `${TMP_PREFIX}${randomBytes(6).toString('hex')}`)
    await mkdir(tmp, { recursive: true })
    try {
      await writeFileSynced(join(tmp, MODEL_JSON), artifacts.modelJson)
      await writeFileSynced(join(tmp, WEIGHTS), artifacts.weights)
      if (name != null && name !== '') await writeFileSynced(join(tmp, NAME_FILE), new TextEncoder().encode(name))
      await syncDir(tmp)
      await rm(join(this.dir, id), { recursive: true, force: true })
      await rename(tmp, join(this.dir, id))
      await syncDir(this.dir)
    } catch (err) {
      await rm(tmp, { recursive: true, force: true })
      throw err
    }
    this.entries.delete(id)
    this.entries.set(id, bytes)
    await this.evict(id)
  }

  async delete (id: string): Promise<void> {
    this.entries.delete(id)
    if (SAFE_ID.test(id)) await rm(join(this.dir, id), { recursive: true, force: true })
  }

  private async touch (id: string): Promise<void> {
    const bytes = this.entries.get(id)
    if (bytes == null) return
    this.entries.delete(id)
    this.entries.set(id, bytes)
    const now = new Date()
    await utimes(join(this.dir, id, MODEL_JSON), now, now)
  }

  /** Remove least recently used entries (never `keep`) until the total fits. */
  private async evict (keep?: string): Promise<void> {
    let total = this.totalBytes
    for (const [id, bytes] of [...this.entries]) {
      if (total <= this.maxBytes) return
      if (id === keep) continue
      this.log('evicting model %s (%d bytes) from the cache', id, bytes)
      await this.delete(id)
      total -= bytes
    }
  }
}
