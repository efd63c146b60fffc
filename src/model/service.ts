/**
 * `ModelService`: the model runtime as a libp2p-style startable service.
 * `start()` picks the TF.js backend and loads the configured model folders;
 * `stop()` frees every model. Both are safe to call twice.
 */
import { serviceCapabilities } from '@libp2p/interface'
import { logger as defaultLogger } from '@libp2p/logger'
import { CAPABILITY } from '../capabilities.js'
import { NotStartedError } from '../errors.js'
import { selectBackend } from './backend.js'
import { DEFAULT_MAX_MODELS, DEFAULT_MODEL_MEMORY_BYTES } from './constants.js'
import { TfModelRuntime } from './runtime.js'
import type { BackendChoice } from './backend.js'
import type {
  BackendName, Dataset, EvalResult, MlpSpec, ModelArtifacts, ModelBudgetUsage, ModelInfo, ModelOrigin, ModelRuntime,
  TensorData, TrainConfig, TrainResult, WeightRecord
} from './types.js'
import type { AbortOptions, ComponentLogger, Logger, Startable } from '@libp2p/interface'

/** Options of the model runtime and service. */
export interface ModelRuntimeInit {
  /** TF.js backend; `auto` honours `EDGE_MESH_BACKEND`, then tries tensorflow, wasm, cpu. @default 'auto' */
  backend?: BackendChoice
  /** Folders of TF.js layers models (model.json + weights) to load at start. @default [] */
  modelDirs?: string[]
  /** Model memory budget: most bytes of models (model.json + weights) loaded at once. @default 512 MiB */
  maxModelBytes?: number
  /** Model memory budget: most models loaded at once. @default 8 */
  maxModels?: number
}

/** What the model service takes from the node; all optional. */
export interface ModelComponents {
  logger?: ComponentLogger
}

/** Create a ready runtime: choose the backend, then load `init.modelDirs`. */
export async function createModelRuntime (init: ModelRuntimeInit = {}, log: Logger = defaultLogger('edge-mesh:model')): Promise<TfModelRuntime> {
  const backend = await selectBackend(init.backend ?? 'auto', log.newScope('backend'))
  const runtime = new TfModelRuntime(backend, log, { maxBytes: init.maxModelBytes, maxModels: init.maxModels })
  try {
    for (const dir of init.modelDirs ?? []) await runtime.loadFromDir(dir)
  } catch (err) {
    runtime.unloadAll()
    throw err
  }
  return runtime
}

/**
 * The model runtime as a service. Before `start()` (and after `stop()`) the
 * queries `has`, `get` and `list` report no models, `unload` does nothing, and
 * every other member throws NotStartedError.
 */
export class ModelService implements ModelRuntime, Startable {
  private runtime?: TfModelRuntime
  private starting?: Promise<void>
  private readonly log: Logger

  constructor (components: ModelComponents, private readonly init: ModelRuntimeInit = {}) {
    this.log = components.logger?.forComponent('edge-mesh:model') ?? defaultLogger('edge-mesh:model')
  }

  readonly [Symbol.toStringTag] = '@edge-mesh/model'
  readonly [serviceCapabilities]: string[] = [CAPABILITY.models]

  async start (): Promise<void> {
    this.starting ??= createModelRuntime(this.init, this.log).then((runtime) => { this.runtime = runtime })
    try {
      await this.starting
    } catch (err) {
      this.starting = undefined
      throw err
    }
  }

  async stop (): Promise<void> {
    await this.starting?.catch(() => {})
    this.runtime?.unloadAll()
    this.runtime = undefined
    this.starting = undefined
  }

  /** True between `start()` and `stop()`. */
  isStarted (): boolean {
    return this.runtime != null
  }

  get backend (): BackendName { return this.started().backend }
  async loadFromDir (dir: string, options?: AbortOptions): Promise<ModelInfo> { return this.started().loadFromDir(dir, options) }
  async loadFromArtifacts (artifacts: ModelArtifacts, options?: AbortOptions & { expectedId?: string, name?: string, origin?: ModelOrigin }): Promise<ModelInfo> {
    return this.started().loadFromArtifacts(artifacts, options)
  }

  exportArtifacts (id: string): ModelArtifacts { return this.started().exportArtifacts(id) }
  async saveToDir (id: string, dir: string): Promise<void> { return this.started().saveToDir(id, dir) }
  has (id: string): boolean { return this.runtime?.has(id) ?? false }
  get (id: string): ModelInfo | undefined { return this.runtime?.get(id) }
  list (): ModelInfo[] { return this.runtime?.list() ?? [] }
  async predict (id: string, inputs: TensorData[], options?: AbortOptions): Promise<TensorData[]> { return this.started().predict(id, inputs, options) }
  getWeights (id: string): WeightRecord { return this.started().getWeights(id) }
  async createFromWeights (baseId: string, weights: WeightRecord, options?: { name?: string }): Promise<ModelInfo> {
    return this.started().createFromWeights(baseId, weights, options)
  }

  async train (baseId: string, weights: WeightRecord, data: Dataset, config?: TrainConfig): Promise<TrainResult> {
    return this.started().train(baseId, weights, data, config)
  }

  async evaluate (baseId: string, weights: WeightRecord, data: Dataset, options?: AbortOptions): Promise<EvalResult> {
    return this.started().evaluate(baseId, weights, data, options)
  }

  async createMlp (spec: MlpSpec): Promise<ModelInfo> { return this.started().createMlp(spec) }
  async createSubModel (baseId: string, outputLayer: string, options?: { name?: string }): Promise<ModelInfo> {
    return this.started().createSubModel(baseId, outputLayer, options)
  }

  async createFeatureBase (packagedName: string, layer?: string): Promise<ModelInfo> {
    return this.started().createFeatureBase(packagedName, layer)
  }
  unload (id: string): void { this.runtime?.unload(id) }
  memory (): { count: number, bytes: number } { return this.runtime?.memory() ?? { count: 0, bytes: 0 } }
  admits (bytes: number): boolean { return this.runtime?.admits(bytes) ?? false }
  retain (id: string): () => void { return this.started().retain(id) }
  budget (): ModelBudgetUsage {
    return this.runtime?.budget() ?? {
      count: 0, bytes: 0, maxModels: this.init.maxModels ?? DEFAULT_MAX_MODELS, maxBytes: this.init.maxModelBytes ?? DEFAULT_MODEL_MEMORY_BYTES, evictions: 0, refusals: 0
    }
  }

  private started (): TfModelRuntime {
    if (this.runtime == null) throw new NotStartedError('the model service is not started')
    return this.runtime
  }
}
