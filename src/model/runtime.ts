/**
 * `TfModelRuntime`: the TensorFlow.js implementation of `ModelRuntime`.
 *
 * Every model is held as canonical artifacts (its content id is their hash)
 * plus one executable (a `tf.LayersModel` or a `tf.GraphModel`, see
 * `executable.ts`) used for inference. Registered models never change:
 * training and evaluation (layers models only) run on a short-lived copy that
 * is built from the topology and the given weights, then disposed.
 *
 * Loaded models share a memory budget (bytes and count, see `budget.ts`):
 * before a model is added, idle models are unloaded, least recently used
 * first, until it fits; when it cannot fit the load fails with
 * ModelBudgetExceededError. A model is held (never unloaded) while a
 * predict, train or evaluate runs on it or a caller `retain`s it.
 */
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { logger } from '@libp2p/logger'
import { InvalidModelError, ModelBudgetExceededError, ModelNotFoundError, InvalidTensorError, ModelNotTrainableError } from '../errors.js'
import { chooseEvictions } from './budget.js'
import { canonicalise, canonicaliseArtifacts, sizeOf } from './canonical.js'
import { DEFAULT_MAX_MODELS, DEFAULT_MODEL_MEMORY_BYTES } from './constants.js'
import { loadExecutable } from './executable.js'
import { fileSystemLoader, memoryLoader, writeModelDir } from './io.js'
import { mlpArtifacts } from './mlp.js'
import { isPackagedModelName, loadPackagedModel } from './packaged.js'
import { cutAt, packagedBase } from './submodel.js'
import { TimingWindow } from './timing.js'
import { checkInput, decodeWeights, encodeWeights, fromTensor, toTensor } from './tensors.js'
import { evaluateModel, throwIfAborted, trainModel, trainSettings } from './train.js'
import type { BudgetEntry, ModelBudget } from './budget.js'
import type { CanonicalModel, WeightSpec } from './canonical.js'
import type { Executable } from './executable.js'
import type {
  BackendName, Dataset, EvalResult, MlpSpec, ModelArtifacts, ModelBudgetUsage, ModelInfo, ModelOrigin, ModelRuntime,
  TensorData, TrainConfig, TrainResult, WeightRecord
} from './types.js'
import type { AbortOptions, Logger } from '@libp2p/interface'

/** A registered model. */
interface Entry {
  info: ModelInfo
  canonical: CanonicalModel
  model: Executable
  timing: TimingWindow
  /** Holders right now; the budget never unloads a held model. */
  refs: number
  /** Logical clock of the last use, for least-recently-used unloading. */
  lastUsed: number
}

/** The TF.js model runtime. Create it with `createModelRuntime()` (which picks the backend first). */
export class TfModelRuntime implements ModelRuntime {
  readonly backend: BackendName
  private readonly models = new Map<string, Entry>()
  private readonly loading = new Map<string, Promise<ModelInfo>>()
  /** Bytes of the loads in progress, so concurrent loads cannot overshoot the budget together. */
  private readonly reserved = new Map<string, number>()
  private readonly log: Logger
  private readonly limits: ModelBudget
  private clock = 0
  private evictions = 0
  private refusals = 0

  constructor (backend: BackendName, log: Logger = logger('edge-mesh:model'), budget: Partial<ModelBudget> = {}) {
    this.backend = backend
    this.log = log
    this.limits = { maxBytes: budget.maxBytes ?? DEFAULT_MODEL_MEMORY_BYTES, maxModels: budget.maxModels ?? DEFAULT_MAX_MODELS }
  }

  async loadFromDir (dir: string, options?: AbortOptions): Promise<ModelInfo> {
    throwIfAborted(options, 'model load')
    if (isPackagedModelName(dir)) return this.register(canonicalise(await loadPackagedModel(dir)), dir, 'configured', options)
    const raw = await fileSystemLoader(dir).loadRaw()
    return this.register(canonicalise(raw), path.basename(path.resolve(dir)), 'configured', options)
  }

  /** Load canonical artifacts; they count as `fetched` (unloadable, not announced) unless `origin` says otherwise. */
  async loadFromArtifacts (artifacts: ModelArtifacts, options?: AbortOptions & { expectedId?: string, name?: string, origin?: ModelOrigin }): Promise<ModelInfo> {
    throwIfAborted(options, 'model load')
    const canonical = canonicaliseArtifacts(artifacts)
    if (options?.expectedId != null && options.expectedId !== canonical.id) {
      throw new InvalidModelError(`content id mismatch: expected ${options.expectedId}, artifacts hash to ${canonical.id}`)
    }
    return this.register(canonical, options?.name ?? canonical.id.slice(0, 19), options?.origin ?? 'fetched', options)
  }

  exportArtifacts (id: string): ModelArtifacts {
    const { artifacts } = this.entry(id).canonical
    return { modelJson: artifacts.modelJson.slice(), weights: artifacts.weights.slice() }
  }

  /** Write a loaded model's canonical artifacts as `model.json` + `weights.bin` in `dir`. */
  async saveToDir (id: string, dir: string): Promise<void> {
    await writeModelDir(dir, this.entry(id).canonical.artifacts)
  }

  has (id: string): boolean {
    return this.models.has(id)
  }

  get (id: string): ModelInfo | undefined {
    const entry = this.models.get(id)
    return entry == null ? undefined : describe(entry)
  }

  list (): ModelInfo[] {
    return [...this.models.values()].map(describe)
  }

  async predict (id: string, inputs: TensorData[], options?: AbortOptions): Promise<TensorData[]> {
    throwIfAborted(options, 'prediction')
    const release = this.retain(id)
    try {
      return await this.predictHeld(this.entry(id), id, inputs)
    } finally {
      release()
    }
  }

  private async predictHeld (entry: Entry, id: string, inputs: TensorData[]): Promise<TensorData[]> {
    const signature = entry.model.inputs
    if (!Array.isArray(inputs) || inputs.length !== signature.length) {
      throw new InvalidTensorError(`model ${id} takes ${signature.length} input(s), got ${Array.isArray(inputs) ? inputs.length : 'none'}`)
    }
    inputs.forEach((input, i) => { checkInput(input, signature[i], i) })
    // TF.js on wasm or cpu computes synchronously and settles `data()` in a microtask, so a
    // queue of predictions would run back to back without ever letting timers and network
    // I/O in: load reports would expire and peers' streams time out for a whole burst.
    await new Promise((resolve) => setImmediate(resolve))
    const started = performance.now()
    const xs = inputs.map(toTensor)
    let outputs: tf.Tensor[] = []
    try {
      outputs = await entry.model.run(xs)
      const result = await Promise.all(outputs.map(fromTensor))
      entry.timing.record(performance.now() - started, inputs[0]?.shape[0] ?? 1)
      return result
    } finally {
      tf.dispose([...xs, ...outputs])
    }
  }

  getWeights (id: string): WeightRecord {
    const { specs, artifacts } = this.entry(id).canonical
    return decodeWeights(specs, artifacts.weights)
  }

  async createFromWeights (baseId: string, weights: WeightRecord, options?: { name?: string }): Promise<ModelInfo> {
    const base = this.entry(baseId).canonical
    const bytes = encodeWeights(base.specs, weights)
    const canonical = canonicalise({ format: base.format, modelTopology: base.topology, signature: base.signature, weightSpecs: base.specs, weightData: bytes })
    return this.register(canonical, options?.name ?? this.entry(baseId).info.name, 'created')
  }

  /**
   * Register the part of layers model `baseId` from its inputs to `outputLayer` as a model of its
   * own (a frozen feature extractor for fine-tuning a new head; see `submodel.ts`).
   */
  async createSubModel (baseId: string, outputLayer: string, options?: { name?: string }): Promise<ModelInfo> {
    const { model, info } = this.entry(baseId)
    if (model.layers == null) throw new ModelNotTrainableError(`model ${baseId} is a ${model.format}; only layers models can be cut at a layer`)
    return this.register(canonicalise(await cutAt(model.layers, outputLayer)), options?.name ?? `${info.name}:${outputLayer}`, 'created')
  }

  /** Register the frozen base of a packaged layers model (see `packagedBase`), named `<name>:<layer>`. */
  async createFeatureBase (name: string, layer?: string): Promise<ModelInfo> {
    const base = await packagedBase(name, layer)
    await new Promise((resolve) => setImmediate(resolve))
    return this.register(canonicalise(base.raw), `${name}:${base.layer}`, 'created')
  }

  async createMlp (spec: MlpSpec): Promise<ModelInfo> {
    const canonical = mlpArtifacts(spec)
    const hidden = spec.hidden.join('-')
    return this.register(canonical, spec.name ?? `mlp-${spec.inputSize}-${hidden === '' ? '' : hidden + '-'}${spec.classes}`, 'created')
  }

  async train (baseId: string, weights: WeightRecord, data: Dataset, config: TrainConfig = {}): Promise<TrainResult> {
    const settings = trainSettings(config)
    throwIfAborted(settings, 'training')
    const started = performance.now()
    const { specs } = this.entry(baseId).canonical
    const release = this.retain(baseId)
    try {
      const model = await this.instantiate(baseId, weights)
      try {
        const { loss, accuracy } = await trainModel(model, data, settings)
        const trained = await readWeights(model, specs)
        return { weights: trained, numExamples: data.count, loss, accuracy, trainMs: performance.now() - started }
      } finally {
        model.dispose()
      }
    } finally {
      release()
    }
  }

  async evaluate (baseId: string, weights: WeightRecord, data: Dataset, options?: AbortOptions): Promise<EvalResult> {
    throwIfAborted(options, 'evaluation')
    const release = this.retain(baseId)
    try {
      const model = await this.instantiate(baseId, weights)
      try {
        return await evaluateModel(model, data, options)
      } finally {
        model.dispose()
      }
    } finally {
      release()
    }
  }

  /** Live tensors and their bytes in the TF.js engine. */
  memory (): { count: number, bytes: number } {
    const m = tf.memory()
    return { count: m.numTensors, bytes: m.numBytes }
  }

  /** Hold `id` (it is not unloaded to make room) until the returned function is called; marks it used. */
  retain (id: string): () => void {
    const entry = this.entry(id)
    entry.refs++
    entry.lastUsed = ++this.clock
    let released = false
    return () => {
      if (released) return
      released = true
      entry.refs--
    }
  }

  /** Whether a model of `bytes` could be loaded now, unloading idle models as needed; a `false` counts as a refusal. */
  admits (bytes: number): boolean {
    const fits = chooseEvictions(this.budgetEntries(), bytes, this.limits) != null
    if (!fits) this.refusals++
    return fits
  }

  budget (): ModelBudgetUsage {
    const bytes = [...this.models.values()].reduce((sum, e) => sum + e.info.sizeBytes, 0)
    return { count: this.models.size, bytes, ...this.limits, evictions: this.evictions, refusals: this.refusals }
  }

  /** Free a model's memory. Unloading an unknown id does nothing. */
  unload (id: string): void {
    const entry = this.models.get(id)
    if (entry == null) return
    this.models.delete(id)
    entry.model.dispose()
    this.log('unloaded model %s', id)
  }

  /** Unload every model. */
  unloadAll (): void {
    for (const id of [...this.models.keys()]) this.unload(id)
  }

  private entry (id: string): Entry {
    const entry = this.models.get(id)
    if (entry == null) throw new ModelNotFoundError(`model ${id} is not loaded`)
    return entry
  }

  /**
   * Build a model for canonical artifacts and add it within the budget; loading an id that is
   * already there returns its info (and promotes it to the stronger origin, e.g. fetched to configured).
   */
  private async register (canonical: CanonicalModel, name: string, origin: ModelOrigin, options?: AbortOptions): Promise<ModelInfo> {
    const loaded = this.models.get(canonical.id)
    if (loaded != null) {
      loaded.lastUsed = ++this.clock
      if (strength(origin) > strength(loaded.info.origin ?? 'configured')) loaded.info = { ...loaded.info, origin }
      return describe(loaded)
    }
    const existing = this.loading.get(canonical.id)
    if (existing != null) return existing
    const bytes = canonical.artifacts.modelJson.byteLength + canonical.artifacts.weights.byteLength
    this.makeRoom(canonical.id, bytes)
    const pending = this.build(canonical, name, origin)
    this.loading.set(canonical.id, pending)
    this.reserved.set(canonical.id, bytes)
    try {
      const info = await pending
      throwIfAborted(options, 'model load')
      return info
    } finally {
      this.loading.delete(canonical.id)
      this.reserved.delete(canonical.id)
    }
  }

  /** Unload idle models until `bytes` more fit, or throw ModelBudgetExceededError (nothing unloaded then). */
  private makeRoom (id: string, bytes: number): void {
    const victims = chooseEvictions(this.budgetEntries(), bytes, this.limits)
    if (victims == null) {
      this.refusals++
      const { count, bytes: used } = this.budget()
      throw new ModelBudgetExceededError(`model ${id} (${bytes} bytes) does not fit the model budget: ${count} of ${this.limits.maxModels} models, ` +
        `${used} of ${this.limits.maxBytes} bytes loaded and in use`)
    }
    for (const victim of victims) {
      this.log('unloading idle model %s to make room for %s', victim, id)
      this.evictions++
      this.unload(victim)
    }
  }

  /** Loaded models and loads in progress (held, so never chosen) as the budget sees them. */
  private budgetEntries (): BudgetEntry[] {
    const loaded = [...this.models.values()].map((e): BudgetEntry => ({
      id: e.info.id, bytes: e.info.sizeBytes, origin: e.info.origin ?? 'configured', refs: e.refs, lastUsed: e.lastUsed
    }))
    const pending = [...this.reserved].map(([id, bytes]): BudgetEntry => ({ id, bytes, origin: 'configured', refs: 1, lastUsed: this.clock }))
    return [...loaded, ...pending]
  }

  private async build (canonical: CanonicalModel, name: string, origin: ModelOrigin): Promise<ModelInfo> {
    const model = await loadExecutable(canonical)
    const info: ModelInfo = {
      id: canonical.id,
      name,
      inputShapes: model.inputs.map((t) => t.shape),
      outputShapes: model.outputShapes,
      parameters: canonical.specs.reduce((n, s) => n + sizeOf(s.shape), 0),
      sizeBytes: canonical.artifacts.modelJson.byteLength + canonical.artifacts.weights.byteLength,
      format: model.format,
      inputs: model.inputs,
      fixedBatch: model.inputs.some((t) => t.shape.length === 0 || t.shape[0] !== -1),
      origin
    }
    this.models.set(info.id, { info, canonical, model, timing: new TimingWindow(), refs: 0, lastUsed: ++this.clock })
    this.log('loaded %s %s (%s, %d parameters)', model.format, info.id, name, info.parameters)
    return info
  }

  /** A fresh, unregistered copy of `baseId`'s architecture holding `weights`. The caller disposes it. */
  private async instantiate (baseId: string, weights: WeightRecord): Promise<tf.LayersModel> {
    const { topology, specs, format } = this.entry(baseId).canonical
    if (format !== 'layers-model') throw new ModelNotTrainableError(`model ${baseId} is a ${format}; only layers models can be trained or evaluated`)
    return loadLayers(topology, specs, encodeWeights(specs, weights))
  }
}

/** How strongly an origin keeps a model: configured > created > fetched. */
function strength (origin: ModelOrigin): number {
  return origin === 'configured' ? 2 : origin === 'created' ? 1 : 0
}

/** A registered model's info with its current execution mode and measured timing. */
function describe (entry: Entry): ModelInfo {
  const execution = entry.model.execution
  const timing = entry.timing.summary()
  if (execution == null && timing == null) return entry.info
  return { ...entry.info, ...(execution != null ? { execution } : {}), ...(timing != null ? { timing } : {}) }
}

/** `tf.loadLayersModel` over canonical parts; TF.js failures become InvalidModelErrors. */
async function loadLayers (topology: object, specs: WeightSpec[], weights: Uint8Array): Promise<tf.LayersModel> {
  try {
    return await tf.loadLayersModel(memoryLoader(topology, specs, weights))
  } catch (err: any) {
    throw new InvalidModelError(`TF.js cannot build the model: ${String(err?.message ?? err)}`)
  }
}

/** Read a model's weights in the order and under the names of `specs`. */
async function readWeights (model: tf.LayersModel, specs: WeightSpec[]): Promise<WeightRecord> {
  const byName = new Map<string, tf.LayerVariable>()
  for (const layer of model.layers) {
    for (const w of layer.weights) byName.set(w.originalName, w)
  }
  return Promise.all(specs.map(async (spec) => {
    const variable = byName.get(spec.name) ?? byName.get(shortName(spec.name))
    if (variable == null) throw new InvalidModelError(`weight "${spec.name}" has no variable in the model`)
    const t = await fromTensor(variable.read())
    return { name: spec.name, ...t }
  }))
}

/** TF.js's fallback for nested names: `a/b/c/kernel` -> `a/kernel` (see `Container.loadWeights`). */
function shortName (name: string): string {
  const tokens = name.split('/')
  return [...tokens.slice(0, -2), tokens[tokens.length - 1]].join('/')
}
