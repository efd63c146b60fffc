/**
 * @packageDocumentation
 *
 * The model capability: the only part of edge-mesh that imports TensorFlow.js.
 * It loads TF.js layers and graph models (from a folder, from canonical
 * artifacts received from a peer, or by name from an installed package:
 * `human:movenet-lightning`, see `packagedModels()`), names each by a content
 * id (`sha256-<hex>` of its canonical bytes, see docs/protocols.md "Model
 * content ids"), runs inference (graph models with `execute`, or
 * `executeAsync` when they hold control flow), and trains/evaluates copies of
 * layers models for federated learning. The rest of edge-mesh sees only the
 * `ModelRuntime` interface and plain typed arrays.
 *
 * The TF.js backend is chosen at start: `tensorflow` (`@tensorflow/tfjs-node`,
 * when installed), else `wasm`, else `cpu`; `EDGE_MESH_BACKEND` forces one.
 *
 * @example
 * ```ts
 * import { createModelRuntime, loadMnist, sliceDataset } from 'edge-mesh/model'
 *
 * const runtime = await createModelRuntime({ modelDirs: ['examples/models/mnist-mlp'] })
 * const [model] = runtime.list()
 * const digits = loadMnist()
 * const [probs] = await runtime.predict(model.id, [{ shape: [1, 784], dtype: 'float32', data: digits.x.slice(0, 784) }])
 * console.log(runtime.backend, model.id, probs.data)
 *
 * // federated-style local training on a copy; the loaded model is not changed
 * const result = await runtime.train(model.id, runtime.getWeights(model.id), sliceDataset(digits, 0, 2000), { epochs: 1 })
 * const updated = await runtime.createFromWeights(model.id, result.weights)
 * console.log(result.loss, result.accuracy, updated.id)
 * ```
 *
 * As a libp2p service:
 * ```ts
 * const node = await createLibp2p({ services: { models: models({ modelDirs: ['./models/mnist-mlp'] }) } })
 * node.services.models.list()
 * ```
 */
import { ModelService } from './service.js'
import type { ModelComponents, ModelRuntimeInit } from './service.js'

export * from './types.js'
export { createModelRuntime, ModelService } from './service.js'
export type { ModelComponents, ModelRuntimeInit } from './service.js'
export { TfModelRuntime } from './runtime.js'
export { selectBackend, activeBackend, isBackendName } from './backend.js'
export type { BackendChoice } from './backend.js'
export { loadMnist, sliceDataset, subsetDataset, loadDatasetDir, parseDatasetCsv, parseDatasetJson } from './datasets.js'
export { canonicalJson, contentId } from './canonical.js'
export { writeModelDir } from './io.js'
export { chooseEvictions, isEvictable } from './budget.js'
export type { BudgetEntry, ModelBudget } from './budget.js'
export { DEFAULT_MAX_MODELS, DEFAULT_MODEL_MEMORY_BYTES } from './constants.js'
export { packagedModels, packagedModel, isPackagedModelName } from './packaged.js'
export { extractFeatures, fitExamples, inputBatch } from './features.js'
export type { FeatureOptions } from './features.js'
export type { PackagedModel } from './packaged.js'
export { BACKEND_ENV_VAR, WEIGHTS_FILE_NAME, MODEL_JSON_FILE_NAME, CONTENT_ID_PREFIX } from './constants.js'

/**
 * The model runtime as a libp2p service: `start()` picks the backend and loads
 * `init.modelDirs`, `stop()` frees every model.
 *
 * @param init - backend choice (default `auto`) and model folders to load (default none)
 */
export function models (init: ModelRuntimeInit = {}): (components: ModelComponents) => ModelService {
  return (components) => new ModelService(components, init)
}
