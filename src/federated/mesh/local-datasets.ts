/**
 * The datasets a node declared (`--data <name>=<spec>`, a bare spec is
 * `default`), as a coordinator resolves the references of run specs:
 * `evalData` and `rootData` are a declared name or a built-in `mnist:` spec,
 * never a path. Loaded sets are kept in a bounded cache (`data-sets.ts`); a load failure is
 * logged here and reported without the file's content (it may travel in a
 * run summary).
 */
import { InvalidConfigError } from '../../errors.js'
import { DEFAULT_DATASET_NAME } from '../constants.js'
import { CoordinatorDataSets } from './data-sets.js'
import { loadData, parseDatasets } from './data-spec.js'
import type { Dataset } from '../../model/types.js'
import type { Logger } from '@libp2p/interface'

export class LocalDatasets {
  private readonly specs: Map<string, string>
  private readonly cache: CoordinatorDataSets

  /** Parse `--data` entries; throws InvalidConfigError for a bad spec or a name declared twice. Keeps at most `maxLoaded` loaded sets. */
  constructor (entries: string | readonly string[] | undefined, private readonly log: Logger, maxLoaded: number) {
    this.specs = parseDatasets(entries === undefined ? [] : typeof entries === 'string' ? [entries] : entries, DEFAULT_DATASET_NAME)
    this.cache = new CoordinatorDataSets(maxLoaded, async (spec) => (await loadData(spec))[0])
  }

  /** The virtual clients this node trains with: one per spec of its `default` dataset. */
  async trainingClients (): Promise<Dataset[]> {
    const spec = this.specs.get(DEFAULT_DATASET_NAME)
    return spec === undefined ? [] : await loadData(spec)
  }

  /** The spec a reference stands for; InvalidConfigError naming `field` when it is neither declared nor built in. */
  specOf (ref: string, field = 'data'): string {
    const declared = this.specs.get(ref)
    if (declared !== undefined) return declared
    if (ref.startsWith('mnist:')) return ref
    throw new InvalidConfigError(`${field}: no dataset named "${ref}" is declared on the coordinator (--data ${ref}=<spec>)`)
  }

  /** A coordinator data set (held-out, FLTrust root), loaded once per reference. */
  async load (ref: string): Promise<Dataset> {
    const spec = this.specOf(ref)
    try {
      return await this.cache.get(spec)
    } catch (err: any) {
      this.log.error('dataset %s could not be loaded: %s', ref, err?.message)
      throw new InvalidConfigError(`dataset "${ref}" could not be loaded on the coordinator (details in its log)`)
    }
  }

  /** Drop every loaded set (the service stops). */
  clear (): void {
    this.cache.clear()
  }
}
