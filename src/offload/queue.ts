/**
 * The engine's bounded FIFO of waiting requests and the pure batching policy
 * that picks what runs next, in the manner of Triton's dynamic batcher: the
 * oldest request of each batching key gathers later requests with the same key
 * up to `maxBatchSize` rows (or the fewer rows its `maxRows` allows); the
 * batch runs as soon as it is full or its oldest request has waited
 * `maxBatchDelayMs`. Keys are served oldest first, so a
 * model whose batch is still forming does not hold up another model's.
 */

/** What the policy needs to know about a waiting request. */
export interface Queued {
  /** Batching key (see `batchKey`). */
  key: string
  /** Leading dimension of the request's inputs. */
  rows: number
  /** Clock time the request entered the queue, ms. */
  enqueuedAt: number
  /** Never merge this request with others (a model with a fixed batch size). @default false */
  alone?: boolean
  /** Most rows a batch headed by this request may take, below the policy's `maxBatchSize` (see the engine's `batchRows`). @default maxBatchSize */
  maxRows?: number
}

export interface BatchPolicy {
  batching: boolean
  maxBatchSize: number
  maxBatchDelayMs: number
}

/** The policy's answer: run `batch` now, or look again in `waitMs`. */
export type BatchChoice<T> = { batch: T[] } | { waitMs: number }

/** Greedily take requests of the head's key, oldest first, while their rows fit. */
function gather<T extends Queued> (entries: readonly T[], head: T, maxRows: number): { batch: T[], full: boolean } {
  const batch = [head]
  if (head.alone === true) return { batch, full: true }
  let rows = head.rows
  let full = rows >= maxRows
  for (const entry of entries) {
    if (entry === head || entry.key !== head.key || entry.alone === true) continue
    if (rows + entry.rows > maxRows) {
      full = true
      continue
    }
    batch.push(entry)
    rows += entry.rows
    if (rows >= maxRows) full = true
  }
  return { batch, full }
}

/**
 * Pick the next batch (pure). Returns `undefined` when nothing waits.
 * `entries` is in arrival order.
 */
export function selectBatch<T extends Queued> (entries: readonly T[], now: number, policy: BatchPolicy): BatchChoice<T> | undefined {
  if (entries.length === 0) return undefined
  if (!policy.batching) return { batch: [entries[0]] }
  let waitMs = Infinity
  const seen = new Set<string>()
  for (const head of entries) {
    if (seen.has(head.key)) continue
    seen.add(head.key)
    const { batch, full } = gather(entries, head, Math.min(policy.maxBatchSize, head.maxRows ?? policy.maxBatchSize))
    const waited = now - head.enqueuedAt
    if (full || waited >= policy.maxBatchDelayMs) return { batch }
    waitMs = Math.min(waitMs, policy.maxBatchDelayMs - waited)
  }
  return { waitMs }
}

/** The FIFO of waiting requests (the engine bounds it); `remove` is linear, fine for tens of entries. */
export class RequestQueue<T extends Queued> {
  private entries: T[] = []

  get size (): number {
    return this.entries.length
  }

  /** Waiting requests, oldest first. */
  list (): readonly T[] {
    return this.entries
  }

  push (entry: T): void {
    this.entries.push(entry)
  }

  /** Remove entries; returns how many were present. */
  remove (...entries: T[]): number {
    const before = this.entries.length
    const gone = new Set(entries)
    this.entries = this.entries.filter(e => !gone.has(e))
    return before - this.entries.length
  }

  /** Remove and return every entry. */
  drain (): T[] {
    const all = this.entries
    this.entries = []
    return all
  }
}
