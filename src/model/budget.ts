/**
 * The model memory budget (pure): which loaded models to unload so that one
 * more fits within a byte and a count bound.
 *
 * Only idle models may go (no inference, training or evaluation holds them),
 * and never one the user configured (`--model`). Models fetched for a peer go
 * first, then models this node created (federated global models); within each
 * class the least recently used goes first. A node therefore keeps its own
 * models while a stranger's requests can only displace each other.
 */
import type { ModelOrigin } from './types.js'

/** The memory bound of the models loaded at once. */
export interface ModelBudget {
  /** Most bytes of canonical artifacts (model.json + weights) loaded at once. */
  maxBytes: number
  /** Most models loaded at once. */
  maxModels: number
}

/** What the budget needs to know about one loaded (or loading) model. */
export interface BudgetEntry {
  id: string
  bytes: number
  origin: ModelOrigin
  /** Holders right now (a running predict, train or evaluate; a load in progress). */
  refs: number
  /** A logical clock value of its last use; smaller is older. */
  lastUsed: number
}

/** Eviction order of the classes that may be unloaded; configured models never are. */
const EVICTION_RANK: Record<ModelOrigin, number> = { fetched: 0, created: 1, configured: Number.POSITIVE_INFINITY }

/** True when `entry` may be unloaded to make room. */
export function isEvictable (entry: BudgetEntry): boolean {
  return entry.refs === 0 && Number.isFinite(EVICTION_RANK[entry.origin])
}

/**
 * The ids to unload, in order, so that a model of `incomingBytes` fits next to
 * `entries`; `undefined` when no choice of idle models makes room.
 */
export function chooseEvictions (entries: readonly BudgetEntry[], incomingBytes: number, budget: ModelBudget): string[] | undefined {
  if (incomingBytes > budget.maxBytes || budget.maxModels < 1) return undefined
  let bytes = entries.reduce((sum, e) => sum + e.bytes, 0)
  let count = entries.length
  const fits = (): boolean => count + 1 <= budget.maxModels && bytes + incomingBytes <= budget.maxBytes
  const victims = entries.filter(isEvictable)
    .sort((a, b) => EVICTION_RANK[a.origin] - EVICTION_RANK[b.origin] || a.lastUsed - b.lastUsed)
  const chosen: string[] = []
  for (const victim of victims) {
    if (fits()) break
    chosen.push(victim.id)
    bytes -= victim.bytes
    count--
  }
  return fits() ? chosen : undefined
}
