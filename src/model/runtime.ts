/**
 * `TfModelRuntime`: the TensorFlow.js implementation of `ModelRuntime`.
 *
 * Every model is held as canonical artifacts (its content id is their hash)
 * plus one executable (a `tf.LayersModel` or a `tf.GraphModel`, see
 * `executable.ts`) used for inference. Registered models never change:
 * training and evaluation (layers models only) run on a short-lived copy that
 * is built from the topology and the given weights, then disposed.
 */
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { logger } from '@libp2p/logger'
import { InvalidModelError, ModelNotFoundError, InvalidTensorError, ModelNotTrainableError } from '../errors.js'
import { canonicalise, canonicaliseArtifacts, sizeOf } from './canonical.js'
import { loadExecutable } from './executable.js'
import { fileSystemLoader, memoryLoader, writeModelDir } from './io.js'
import { mlpArtifacts } from './mlp.js'
import { isPackagedModelName, loadPackagedModel } from './packaged.js'
import { cutAt } from './submodel.js'
import { TimingWindow } from './timing.js'
import { checkInput, decodeWeights, encodeWeights, fromTensor, toTensor } from './tensors.js'
import { evaluateModel, throwIfAborted, trainModel, trainSettings } from './train.js'
import type { CanonicalModel, WeightSpec } from './canonical.js'
import type { Executable } from './executable.js'
import type {
  BackendName, Dataset, EvalResult, MlpSpec, ModelArtifacts, ModelInfo, ModelRuntime,
  TensorData, TrainConfig, TrainResult, WeightRecord
} from './types.js'
import type { AbortOptions, Logger } from '@libp2p/interface'

/** A registered model. */
interface Entry {
  info: ModelInfo
  canonical: CanonicalModel
  model: Executable
  timing: TimingWindow
}

/** The TF.js model runtime. Create it with `createModelRuntime()` (which picks the backend first). */
export class TfModelRuntime implements ModelRuntime {
  readonly backend: BackendName
  private readonly models = new Map<string, Entry>()
  private readonly loading = new Map<string, Promise<ModelInfo>>()
  private readonly log: Logger

  constructor (backend: BackendName, log: Logger = logger('edge-mesh:model')) {
    this.backend = backend
    this.log = log
  }

  async loadFromDir (dir: string, options?: AbortOptions): Promise<ModelInfo> {
    throwIfAborted(options, 'model load')
    if (isPackagedModelName(dir)) return this.register(canonicalise(await loadPackagedModel(dir)), dir, options)
    const raw = await fileSystemLoader(dir).loadRaw()
    return this.register(canonicalise(raw), path.basename(path.resolve(dir)), options)
  }

  async loadFromArtifacts (artifacts: ModelArtifacts, options?: AbortOptions & { expectedId?: string, name?: string }): Promise<ModelInfo> {
    throwIfAborted(options, 'model load')
    const canonical = canonicaliseArtifacts(artifacts)
    if (options?.expectedId != null && options.expectedId !== canonical.id) {
      throw new InvalidModelError(`content id mismatch: expected ${options.expectedId}, artifacts hash to ${canonical.id}`)
    }
    return this.register(canonical, options?.name ?? canonical.id.slice(0, 19), options)
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
    const entry = this.entry(id)
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
    return this.register(canonical, options?.name ?? this.entry(baseId).info.name)
  }

  /**
   * Register the part of layers model `baseId` from its inputs to `outputLayer` as a model of its
   * own (a frozen feature extractor for fine-tuning a new head; see `submodel.ts`).
   */
  async createSubModel (baseId: string, outputLayer: string, options?: { name?: string }): Promise<ModelInfo> {
    const { model, info } = this.entry(baseId)
    if (model.layers == null) throw new ModelNotTrainableError(`model ${baseId} is a ${model.format}; only layers models can be cut at a layer`)
    return this.register(canonicalise(await cutAt(model.layers, outputLayer)), options?.name ?? `${info.name}:${outputLayer}`)
  }

  async createMlp (spec: MlpSpec): Promise<ModelInfo> {
    const canonical = mlpArtifacts(spec)
    const hidden = spec.hidden.join('-')
    return this.register(canonical, spec.name ?? `mlp-${spec.inputSize}-${hidden === '' ? '' : hidden + '-'}${spec.classes}`)
  }

  async train (baseId: string, weights: WeightRecord, data: Dataset, config: TrainConfig = {}): Promise<TrainResult> {
    const settings = trainSettings(config)
    throwIfAborted(settings, 'training')
    const started = performance.now()
    const { specs } = this.entry(baseId).canonical
    const model = await this.instantiate(baseId, weights)
    try {
      const { loss, accuracy } = await trainModel(model, data, settings)
      const trained = await readWeights(model, specs)
      return { weights: trained, numExamples: data.count, loss, accuracy, trainMs: performance.now() - started }
    } finally {
      model.dispose()
    }
  }

  async evaluate (baseId: string, weights: WeightRecord, data: Dataset, options?: AbortOptions): Promise<EvalResult> {
    throwIfAborted(options, 'evaluation')
    const model = await this.instantiate(baseId, weights)
    try {
      return await evaluateModel(model, data, options)
    } finally {
      model.dispose()
    }
  }

  /** Free a model's memory. Unloading an unknown id does nothing. */
  memory (): { count: number, bytes: number } {
    const m = tf.memory()
    return { count: m.numTensors, bytes: m.numBytes }
  }

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

  /** Build a model for canonical artifacts and add it; loading an id that is already there returns its info. */
  private async register (canonical: CanonicalModel, name: string, options?: AbortOptions): Promise<ModelInfo> {
    const existing = this.models.get(canonical.id)?.info ?? this.loading.get(canonical.id)
    if (existing != null) return existing
    const pending = this.build(canonical, name)
    this.loading.set(canonical.id, pending)
    try {
      const info = await pending
      throwIfAborted(options, 'model load')
      return info
    } finally {
      this.loading.delete(canonical.id)
    }
  }

  private async build (canonical: CanonicalModel, name: string): Promise<ModelInfo> {
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
      fixedBatch: model.inputs.some((t) => t.shape.length === 0 || t.shape[0] !== -1)
    }
    this.models.set(info.id, { info, canonical, model, timing: new TimingWindow() })
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
