/**
 * The data sets a coordinator holds itself (the held-out set it evaluates
 * on, FLTrust's root data), loaded once per spec and shared by the runs of
 * one service. Bounded: at most `max` specs are kept, the least recently used
 * is dropped first, and a load that fails is not kept (the next run tries
 * again).
 */
import type { Dataset } from '../../model/types.js'

export class CoordinatorDataSets {
  private readonly sets = new Map<string, Promise<Dataset>>()

  constructor (private readonly max: number, private readonly load: (spec: string) => Promise<Dataset>) {}

  /** The data set of `spec`, loaded on first use (by `load`, the cache's own loader unless given). */
  async get (spec: string, load: (spec: string) => Promise<Dataset> = this.load): Promise<Dataset> {
    let set = this.sets.get(spec)
    if (set !== undefined) {
      this.sets.delete(spec)
      this.sets.set(spec, set)
      return set
    }
    set = load(spec)
    const loading = set
    loading.catch(() => { if (this.sets.get(spec) === loading) this.sets.delete(spec) })
    this.sets.set(spec, set)
    for (const oldest of this.sets.keys()) {
      if (this.sets.size <= this.max) break
      this.sets.delete(oldest)
    }
    return set
  }

  clear (): void {
    this.sets.clear()
  }
}
