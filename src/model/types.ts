/**
 * Framework-neutral model, tensor and weight types. Everything outside
 * `src/model` talks about models through these types and the `ModelRuntime`
 * interface; only `src/model` imports TensorFlow.js.
 */
import type { AbortOptions } from '@libp2p/interface'

/** Element types edge-mesh moves between peers. */
export type DType = 'float32' | 'int32'

/** A dense tensor as plain typed-array data. `data.length` equals the product of `shape`. */
export interface TensorData {
  shape: number[]
  dtype: DType
  data: Float32Array | Int32Array
}

/** One named weight array of a model (a layer's kernel or bias). */
export interface NamedTensor extends TensorData {
  name: string
}

/** All of a model's weights, in the model's own order: the neutral record that federated averaging moves. */
export type WeightRecord = NamedTensor[]

/** The two TF.js model formats: Keras-style layers models and converted TensorFlow graphs. */
export type ModelFormat = 'layers-model' | 'graph-model'

/** One input of a model: its name in the model, dtype and shape (`-1` for a free dimension). */
export interface TensorSignature {
  name: string
  dtype: DType
  shape: number[]
}

/** Measured inference time of a model on this node, over its most recent `predict` calls. */
export interface InferenceTiming {
  /** `predict` calls measured (all time). */
  calls: number
  /** Median duration of one `predict` call, ms. */
  p50Ms: number
  /** Median duration per row (example) of a call, ms. */
  p50MsPerRow: number
}

/** TensorFlow.js backends edge-mesh can run on, best first. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu'

/**
 * Why a model is loaded: `configured` by the user (`--model`, never unloaded by
 * the budget), `created` here (a federated global model, an MLP), or `fetched`
 * from a peer (on demand, for a request; not announced in load reports).
 */
export type ModelOrigin = 'configured' | 'created' | 'fetched'

/** What the node knows about a loaded model. */
export interface ModelInfo {
  /** Content id: `sha256-<hex>` over the canonical artifacts (see docs/protocols.md). */
  id: string
  /** Human label (the model's directory name or a given name). */
  name: string
  /** Input shapes with `-1` for the batch (or any unknown) dimension. */
  inputShapes: number[][]
  /** Output shapes with `-1` for the batch (or any unknown) dimension. */
  outputShapes: number[][]
  /** Total number of scalar parameters. */
  parameters: number
  /** Size of the canonical artifacts in bytes. */
  sizeBytes: number
  /** Why it is loaded; see ModelOrigin. @default 'configured' */
  origin?: ModelOrigin
  /** TF.js format. Absent in reports from peers that predate graph models; treat as `layers-model`. */
  format?: ModelFormat
  /** Input signature (names, dtypes, shapes), in the order `predict` takes inputs. */
  inputs?: TensorSignature[]
  /**
   * True when an input's batch (leading) dimension is fixed, e.g. MoveNet's `[1,192,192,3]`:
   * such a model takes exactly that many rows per call and is never micro-batched.
   */
  fixedBatch?: boolean
  /** Graph models: `async` when the graph has control-flow or dynamic-shape ops and must run with `executeAsync`. */
  execution?: 'sync' | 'async'
  /** Measured inference time on this node; absent until the model has run. */
  timing?: InferenceTiming
}

/**
 * A model's canonical bytes, as moved by `/edge-mesh/model/1.0.0` and cached on disk:
 * the TF.js layers- or graph-format `model.json` (with a single weights file named `weights.bin`)
 * and the concatenated weight bytes.
 */
export interface ModelArtifacts {
  modelJson: Uint8Array
  weights: Uint8Array
}

/** A supervised classification data set held by one device. Never leaves it. */
export interface Dataset {
  /** Row-major features, `count * product(featureShape)` values. */
  x: Float32Array
  /** Class labels, one per example. */
  y: Int32Array
  /** Shape of one example, e.g. `[784]`. */
  featureShape: number[]
  numClasses: number
  count: number
}

/** A multilayer perceptron architecture, e.g. MNIST's 784-200-200-10. */
export interface MlpSpec {
  inputSize: number
  hidden: number[]
  classes: number
  /** Seed of the deterministic weight initialisation. @default 0 */
  seed?: number
  name?: string
}

/** Local training settings sent by a federated coordinator. */
export interface TrainConfig extends AbortOptions {
  /** Local epochs E. @default 1 */
  epochs?: number
  /** Local batch size B; `0` means the whole local data set as one batch (FedSGD). @default 32 */
  batchSize?: number
  /** SGD learning rate. @default 0.05 */
  learningRate?: number
  /** FedProx proximal term weight mu; 0 disables it. @default 0 */
  proximalMu?: number
  /** Seed for shuffling, so runs are reproducible. @default 0 */
  seed?: number
  /** Yield to the event loop after this many batches so serving is not starved. @default 1 */
  yieldEveryBatches?: number
  /** Called after each batch, e.g. for progress. */
  onBatch?(batch: number, loss: number): void
}

/** The result of local training: new weights and how many examples produced them. */
export interface TrainResult {
  weights: WeightRecord
  numExamples: number
  loss: number
  accuracy: number
  trainMs: number
}

export interface EvalResult {
  loss: number
  accuracy: number
  numExamples: number
}

/** The model layer as the rest of edge-mesh sees it. */
export interface ModelRuntime {
  /** The active TF.js backend. */
  readonly backend: BackendName
  /**
   * Load a TF.js layers or graph model from a directory holding `model.json` and its weight files,
   * or a packaged model by name (`human:movenet-lightning`, see `packagedModels()`).
   */
  loadFromDir(dir: string, options?: AbortOptions): Promise<ModelInfo>
  /** Load a model from canonical artifacts; when `expectedId` is given the content id must match. */
  loadFromArtifacts(artifacts: ModelArtifacts, options?: AbortOptions & { expectedId?: string, name?: string }): Promise<ModelInfo>
  /** The canonical artifacts of a loaded model. */
  exportArtifacts(id: string): ModelArtifacts
  has(id: string): boolean
  get(id: string): ModelInfo | undefined
  list(): ModelInfo[]
  /** Run inference. Inputs carry a leading batch dimension; outputs keep it. */
  predict(id: string, inputs: TensorData[], options?: AbortOptions): Promise<TensorData[]>
  /** A loaded model's current weights. */
  getWeights(id: string): WeightRecord
  /** Register a new model that has `baseId`'s architecture and the given weights; returns its content id. */
  createFromWeights(baseId: string, weights: WeightRecord, options?: { name?: string }): Promise<ModelInfo>
  /** Train a copy of `baseId` starting from `weights` on local data. The loaded model is not changed. */
  train(baseId: string, weights: WeightRecord, data: Dataset, config?: TrainConfig): Promise<TrainResult>
  /** Evaluate `baseId`'s architecture with the given weights on a data set. */
  evaluate(baseId: string, weights: WeightRecord, data: Dataset, options?: AbortOptions): Promise<EvalResult>
  /**
   * Create and register a fresh multilayer perceptron (dense layers with ReLU, softmax output),
   * initialised deterministically from `seed`. Used as the starting point of federated runs.
   */
  createMlp(spec: MlpSpec): Promise<ModelInfo>
  /** Register the part of layers model `baseId` up to `outputLayer` as a model of its own (a frozen base). */
  createSubModel?(baseId: string, outputLayer: string, options?: { name?: string }): Promise<ModelInfo>
  /**
   * Register the frozen base of an installed packaged layers model (`nsfwjs:mobilenet_v2`), cut after
   * `layer` (by default the catalog's feature layer): the feature extractor of a head fine-tuning run.
   */
  createFeatureBase?(packagedName: string, layer?: string): Promise<ModelInfo>
  /** Free a model's memory. */
  unload(id: string): void
  /** Live tensors and their bytes in the TF.js engine. */
  memory?(): { count: number, bytes: number }
  /** Whether a model of `bytes` could be loaded now within the model memory budget (after unloading idle models); `false` counts as a refusal. */
  admits?(bytes: number): boolean
  /** Hold `id` so the budget does not unload it until the returned release is called. */
  retain?(id: string): () => void
  /** The model memory budget and its use. */
  budget?(): ModelBudgetUsage
}

/** The model memory budget of a runtime and what it holds now. */
export interface ModelBudgetUsage {
  /** Models loaded now. */
  count: number
  /** Their canonical bytes (model.json + weights). */
  bytes: number
  maxModels: number
  maxBytes: number
  /** Models unloaded to make room since start. */
  evictions: number
  /** Loads refused with ModelBudgetExceededError since start. */
  refusals: number
}
