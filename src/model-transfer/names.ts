/**
 * Models by name: `infer --model mnist-mlp`. A name resolves to a content id
 * when exactly one model among those this node holds and those its peers
 * announce carries it. Names of models this node does not hold come from the
 * found header of a fetch and from asking peers for their model list
 * (`/edge-mesh/model/1.0.0` type 4), in the background when a load report
 * announces an id with no known name and at once when a name is resolved.
 * They are remembered per content id, bounded; in the background each id is
 * asked about once and at most `MAX_NAME_QUERIES` peers at a time.
 */
import { AmbiguousModelNameError, ModelNotFoundError } from '../errors.js'
import { MAX_NAME_QUERIES, MAX_REMEMBERED_NAMES, NAME_QUERY_TIMEOUT_MS } from './constants.js'
import type { ListedModel } from './wire.js'
import type { AbortOptions } from '@libp2p/interface'

/** A content id (`sha256-<64 hex>`), which needs no resolving. */
export const CONTENT_ID = /^sha256-[0-9a-f]{64}$/

/** The ids among `known` (id → name) whose name is `name`. Pure. */
export function idsNamed (name: string, known: Map<string, string>): string[] {
  return [...known].filter(([, n]) => n === name).map(([id]) => id).sort()
}

/** The one id named `name`, else ModelNotFoundError or AmbiguousModelNameError listing the candidates. Pure. */
export function pickByName (name: string, known: Map<string, string>): string {
  const ids = idsNamed(name, known)
  if (ids.length === 1) return ids[0]
  if (ids.length === 0) {
    const names = [...new Set(known.values())].sort().slice(0, 10)
    throw new ModelNotFoundError(`no model named "${name}" in the mesh${names.length > 0 ? ` (models: ${names.join(', ')})` : ''}`)
  }
  const err = new AmbiguousModelNameError(`"${name}" names ${ids.length} models: ${ids.join(', ')}; pass one of these content ids`)
  err.candidates = ids
  throw err
}

export interface ModelNamesInit {
  /** Models this node holds. */
  local(): Array<{ id: string, name: string }>
  /** Peer id → content ids it announces now (load gossip). */
  announced(): Array<{ peerId: string, models: string[] }>
  /** Ask one peer for its model list. */
  list(peerId: string, options: AbortOptions): Promise<ListedModel[]>
}

export class ModelNames {
  /** Names of models held elsewhere, by content id; oldest first, bounded. */
  private readonly remembered = new Map<string, string>()
  /** Ids already asked about in the background (bounded like `remembered`). */
  private readonly asked = new Set<string>()
  /** Peers being asked in the background now. */
  private readonly asking = new Set<string>()

  constructor (private readonly init: ModelNamesInit) {}

  /** Remember the name a peer gives a model (a fetch's found header, a list answer). */
  remember (id: string, name: string): void {
    if (name === '') return
    this.remembered.delete(id)
    this.remembered.set(id, name)
    if (this.remembered.size > MAX_REMEMBERED_NAMES) this.remembered.delete(this.remembered.keys().next().value as string)
  }

  /** A name known for `id`, if any. */
  nameOf (id: string): string | undefined {
    return this.init.local().find(m => m.id === id)?.name ?? this.remembered.get(id)
  }

  /** A peer announces `models`: ask it once, in the background, for the names of those not known yet. */
  learnInBackground (peerId: string, models: string[]): void {
    const local = new Set(this.init.local().map(m => m.id))
    const fresh = models.filter(id => !local.has(id) && !this.remembered.has(id) && !this.asked.has(id))
    if (fresh.length === 0 || this.asking.has(peerId) || this.asking.size >= MAX_NAME_QUERIES) return
    for (const id of fresh) {
      this.asked.add(id)
      if (this.asked.size > MAX_REMEMBERED_NAMES) this.asked.delete(this.asked.values().next().value as string)
    }
    this.asking.add(peerId)
    void this.init.list(peerId, { signal: AbortSignal.timeout(NAME_QUERY_TIMEOUT_MS) })
      .then(list => { for (const m of list) this.remember(m.id, m.name) })
      .catch(() => {})
      .finally(() => { this.asking.delete(peerId) })
  }

  /** `nameOrId` as a content id: ids pass through, names are looked up in the mesh. */
  async resolve (nameOrId: string, options: AbortOptions = {}): Promise<string> {
    if (CONTENT_ID.test(nameOrId)) return nameOrId
    await this.learnAnnounced(options)
    return pickByName(nameOrId, this.known())
  }

  /** id → name of every model held here or announced by a peer, where the name is known. */
  known (): Map<string, string> {
    const known = new Map<string, string>()
    for (const { models } of this.init.announced()) {
      for (const id of models) {
        const name = this.remembered.get(id)
        if (name != null) known.set(id, name)
      }
    }
    for (const m of this.init.local()) known.set(m.id, m.name)
    return known
  }

  /** Ask the peers that announce ids with no known name for their lists (a few at once; failures are skipped). */
  private async learnAnnounced (options: AbortOptions): Promise<void> {
    const local = new Set(this.init.local().map(m => m.id))
    const unknown = (id: string): boolean => !local.has(id) && !this.remembered.has(id)
    const peers = this.init.announced().filter(p => p.models.some(unknown)).slice(0, MAX_NAME_QUERIES)
    await Promise.all(peers.map(async ({ peerId }) => {
      try {
        for (const m of await this.init.list(peerId, options)) this.remember(m.id, m.name)
      } catch {
        // An unreachable or old peer: its models stay unnamed.
      }
    }))
  }
}
