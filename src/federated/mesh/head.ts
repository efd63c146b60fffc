/**
 * Head fine-tuning runs over the mesh: a run spec naming a packaged base
 * (`"base": "nsfwjs:mobilenet_v2"`) and a new head (`"head": { "classes": 10 }`)
 * federates only the head. Every node that takes part cuts the frozen base
 * from its *own installed package* (a peer names a catalog entry, never a
 * path), checks that its cut has the content id the coordinator announced
 * (same package version, same weights), computes the features of at most
 * `examples` of its examples locally, and trains and pushes the head's
 * weights; the coordinator evaluates on the features of at most
 * `evalExamples` held-out examples and averages only the head.
 */
import { InvalidConfigError, InvalidMessageError, ModelNotFoundError, NotStartedError } from '../../errors.js'
import { isPackagedModelName, packagedModel } from '../../model/packaged.js'
import { extractFeatures } from '../../model/features.js'
import { DEFAULT_HEAD_EVAL_EXAMPLES, DEFAULT_HEAD_EXAMPLES, DEFAULT_HEAD_HIDDEN } from '../constants.js'
import { CoordinatorDataSets } from './data-sets.js'
import type { AnnounceMessage } from './protocol/messages.js'
import type { Dataset, MlpSpec, ModelRuntime } from '../../model/types.js'
import type { AbortOptions, Logger } from '@libp2p/interface'

/** The `head` of a run spec: the new head trained on the frozen base's features. */
export interface HeadSpec {
  /** Classes of the new head's softmax output. */
  classes: number
  /** Hidden layer widths of the head. @default [64] */
  hidden?: number[]
  /** The base's layer the features come from. @default the packaged model's `featureLayer` (MobileNetV2: `flatten_1`, 1280 features) */
  layer?: string
  /** Examples per client whose features are computed and trained on (at most the participant's `maxFeatureExamples`). @default 256 */
  examples?: number
  /** Held-out examples the coordinator evaluates each global head on. @default 200 */
  evalExamples?: number
}

/** The frozen base every participant of a head run computes features with, as ANNOUNCE names it. */
export interface FeatureBase {
  /** Packaged model name (a catalog entry, never a path). */
  base: string
  layer: string
  /** Content id of the cut base; a participant whose installed package cuts to another id refuses. */
  baseId: string
  /** Examples per client to compute features of. */
  examples: number
}

/** What `run.json` keeps of a head run: its base, and the coordinator's evaluation size. */
export interface HeadRun extends FeatureBase {
  evalExamples: number
}

function bad (field: string, why: string): never {
  throw new InvalidConfigError(`${field}: ${why}`)
}

function whole (value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) bad(field, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`)
  return value
}

/** Validate a run spec's `base` and `head` (both or neither); the base must be a layers model of the catalog. */
export function parseHeadSpec (baseValue: unknown, headValue: unknown): { base?: string, head?: HeadSpec } {
  if (baseValue === undefined && headValue === undefined) return {}
  if (typeof baseValue !== 'string' || !isPackagedModelName(baseValue)) bad('base', 'expected the name of a packaged model, e.g. "nsfwjs:mobilenet_v2" (paths are not accepted)')
  let entry
  try {
    entry = packagedModel(baseValue)
  } catch (err: any) {
    bad('base', err.message)
  }
  if (entry.featureLayer === undefined) bad('base', `${baseValue} is not a layers model with a feature layer`)
  if (headValue === null || typeof headValue !== 'object' || Array.isArray(headValue)) bad('head', 'expected an object such as { "classes": 10 }')
  const h = headValue as Record<string, unknown>
  const hidden = h.hidden
  if (hidden !== undefined && (!Array.isArray(hidden) || hidden.length > 4)) bad('head.hidden', 'expected a list of at most 4 layer widths')
  const layer = h.layer
  if (layer !== undefined && (typeof layer !== 'string' || !/^[A-Za-z0-9_./-]{1,128}$/.test(layer))) bad('head.layer', 'expected a layer name')
  const head: HeadSpec = {
    classes: whole(h.classes, 'head.classes', 2, 1000) ?? bad('head.classes', 'required'),
    hidden: (hidden as unknown[] | undefined)?.map((w, i) => whole(w, `head.hidden[${i}]`, 1, 4096) as number),
    layer: layer as string | undefined,
    examples: whole(h.examples, 'head.examples', 1, 1_000_000),
    evalExamples: whole(h.evalExamples, 'head.evalExamples', 1, 1_000_000)
  }
  for (const key of Object.keys(head) as Array<keyof HeadSpec>) if (head[key] === undefined) delete head[key]
  return { base: baseValue, head }
}

/**
 * Create a head run's models on its coordinator: the frozen base from the
 * installed package and a fresh MLP head on its features (seeded, so a
 * resumed run creates the same one).
 */
export async function prepareHeadRun (models: Pick<ModelRuntime, 'createFeatureBase' | 'createMlp'>, base: string, head: HeadSpec, seed: number): Promise<{ baseModelId: string, mlp: MlpSpec, head: HeadRun }> {
  if (models.createFeatureBase === undefined) throw new NotStartedError('this model runtime cannot cut feature bases')
  const layer = head.layer ?? packagedModel(base).featureLayer as string
  const cut = await models.createFeatureBase(base, layer)
  const width = cut.outputShapes[0].slice(1).reduce((n, d) => n * d, 1)
  const mlp: MlpSpec = { inputSize: width, hidden: [...(head.hidden ?? DEFAULT_HEAD_HIDDEN)], classes: head.classes, seed, name: 'head' }
  const created = await models.createMlp(mlp)
  return {
    baseModelId: created.id,
    mlp,
    head: { base, layer, baseId: cut.id, examples: head.examples ?? DEFAULT_HEAD_EXAMPLES, evalExamples: head.evalExamples ?? DEFAULT_HEAD_EVAL_EXAMPLES }
  }
}

/** The ANNOUNCE fields naming a run's frozen base. */
export function announceFields (head: FeatureBase | undefined): Pick<AnnounceMessage, 'featureBase' | 'featureLayer' | 'featureBaseId' | 'featureExamples'> {
  return head === undefined ? {} : { featureBase: head.base, featureLayer: head.layer, featureBaseId: head.baseId, featureExamples: head.examples }
}

/** The frozen base an ANNOUNCE names, or undefined for a whole-model run; InvalidMessageError when only some fields are there. */
export function featureBaseOf (a: AnnounceMessage): FeatureBase | undefined {
  const fields = [a.featureBase, a.featureLayer, a.featureBaseId, a.featureExamples]
  if (fields.every((f) => f === undefined)) return undefined
  if (a.featureBase === undefined || a.featureLayer === undefined || a.featureBaseId === undefined || a.featureExamples === undefined) {
    throw new InvalidMessageError('announce names a feature base without all of featureBase, featureLayer, featureBaseId and featureExamples')
  }
  return { base: a.featureBase, layer: a.featureLayer, baseId: a.featureBaseId, examples: a.featureExamples }
}

/**
 * A node's frozen bases and the features computed with them: bases are cut
 * once from the installed package (concurrent asks share the work), feature
 * sets are kept (at most `maxSets`, least recently used dropped) so later
 * rounds train at once.
 */
export class HeadFeatures {
  private readonly bases = new Map<string, Promise<void>>()
  private readonly sets: CoordinatorDataSets

  constructor (private readonly models: Pick<ModelRuntime, 'has' | 'createFeatureBase' | 'predict' | 'get'>, maxSets: number, private readonly log?: Logger) {
    this.sets = new CoordinatorDataSets(maxSets, async (key) => { throw new NotStartedError(`no features computed for ${key}`) })
  }

  /**
   * Make the base loaded. ModelNotFoundError when this node cannot cut it or its
   * installed package cuts to another content id than `ref.baseId`; the
   * message (it goes back to the coordinator) never quotes local files.
   */
  async ensureBase (ref: Pick<FeatureBase, 'base' | 'layer' | 'baseId'>): Promise<void> {
    if (this.models.has(ref.baseId)) return
    // Only catalog models meant as bases (layers models with a feature layer) are ever loaded for a peer.
    if (packagedModel(ref.base).featureLayer === undefined) throw new ModelNotFoundError(`${ref.base} is not a base for head runs`)
    const key = `${ref.base}@${ref.layer}`
    let loading = this.bases.get(key)
    if (loading === undefined) {
      loading = this.cut(ref).finally(() => { this.bases.delete(key) })
      this.bases.set(key, loading)
    }
    await loading
    if (!this.models.has(ref.baseId)) throw new ModelNotFoundError(`this node's ${ref.base} cut at ${ref.layer} is not base ${ref.baseId} (another package version?)`)
  }

  private async cut (ref: Pick<FeatureBase, 'base' | 'layer' | 'baseId'>): Promise<void> {
    if (this.models.createFeatureBase === undefined) throw new NotStartedError('this model runtime cannot cut feature bases')
    try {
      await this.models.createFeatureBase(ref.base, ref.layer)
    } catch (err: any) {
      this.log?.error('cutting %s at %s failed: %e', ref.base, ref.layer, err)
      throw new ModelNotFoundError(`this node cannot cut ${ref.base} at ${ref.layer} (details in its log)`)
    }
  }

  /** The features of the first `ref.examples` examples of `data`, kept under `key` (what the data is: a client index, a held-out set). */
  async of (key: string, data: Dataset, ref: FeatureBase, options: AbortOptions = {}): Promise<Dataset> {
    return this.sets.get(`${key}/${ref.baseId}/${ref.examples}`, async () => {
      await this.ensureBase(ref)
      return extractFeatures(this.models, ref.baseId, data, { examples: ref.examples, signal: options.signal })
    })
  }

  clear (): void {
    this.sets.clear()
  }
}
