/** Defaults of the model capability. Each is documented where it is used (see `TrainConfig`, `ModelRuntimeInit`). */

/** Environment variable that forces a TF.js backend: `tensorflow`, `wasm` or `cpu`. */
export const BACKEND_ENV_VAR = 'EDGE_MESH_BACKEND'

/** Backends tried, in order, when the choice is `auto`. */
export const BACKEND_CHAIN = ['tensorflow', 'wasm', 'cpu'] as const

/** The single weights file name of canonical artifacts. */
export const WEIGHTS_FILE_NAME = 'weights.bin'

/** The model description file of the TF.js layers format. */
export const MODEL_JSON_FILE_NAME = 'model.json'

/** Prefix of every content id. */
export const CONTENT_ID_PREFIX = 'sha256-'

/** Largest `model.json` accepted from disk or a peer, bytes. */
export const MAX_MODEL_JSON_BYTES = 16 * 1024 * 1024

/** Largest total weight size accepted, bytes (1 GiB). */
export const MAX_WEIGHTS_BYTES = 1024 * 1024 * 1024

/** Local epochs E. */
export const DEFAULT_EPOCHS = 1

/** Local batch size B (0 = full batch). */
export const DEFAULT_BATCH_SIZE = 32

/** SGD learning rate. */
export const DEFAULT_LEARNING_RATE = 0.05

/** FedProx proximal weight mu (0 = plain FedAvg local training). */
export const DEFAULT_PROXIMAL_MU = 0

/** Seed of the shuffling PRNG. */
export const DEFAULT_TRAIN_SEED = 0

/** Yield to the event loop after this many batches. */
export const DEFAULT_YIELD_EVERY_BATCHES = 1

/** Batch size used by `evaluate` (it has no gradient, so large batches are cheap). */
export const EVAL_BATCH_SIZE = 1024

/** Probabilities are clipped to [EPSILON, 1 - EPSILON] before the log of the cross-entropy. */
export const EPSILON = 1e-7

/** Seed of `createMlp` when the spec gives none. */
export const DEFAULT_MLP_SEED = 0

/** Name written into the topology of every MLP made by `createMlp` (the label is kept apart so it does not change the id). */
export const MLP_MODEL_NAME = 'mlp'

/** Seed of the fixed permutation `loadMnist` applies to the digits of the `mnist` package. */
export const MNIST_ORDER_SEED = 0

/**
 * Model memory budget, bytes of canonical artifacts (model.json + weights) loaded
 * at once (512 MiB). Resident memory is about twice this: TF.js holds the
 * weights as tensors and the runtime keeps the canonical bytes to serve peers.
 */
export const DEFAULT_MODEL_MEMORY_BYTES = 512 * 1024 * 1024

/** Most models loaded at once. */
export const DEFAULT_MAX_MODELS = 8

/**
 * Graph ops that TF.js's `GraphModel.execute` refuses (control flow, dynamic
 * shapes, hash tables): a graph holding one runs with `executeAsync`.
 */
export const ASYNC_GRAPH_OPS: ReadonlySet<string> = new Set([
  'Switch', 'Merge', 'Enter', 'Exit', 'NextIteration', 'LoopCond', 'StatelessIf', 'If', 'StatelessWhile', 'While',
  'NonMaxSuppressionV2', 'NonMaxSuppressionV3', 'NonMaxSuppressionV4', 'NonMaxSuppressionV5', 'Where',
  'HashTable', 'HashTableV2', 'LookupTableImport', 'LookupTableImportV2', 'LookupTableFind', 'LookupTableFindV2',
  'LookupTableSize', 'LookupTableSizeV2'
])

/** `predict` calls kept per model for its measured inference time (status and dashboard). */
export const TIMING_WINDOW = 32

/**
 * Examples per `predict` call when computing a frozen base's features (`features.ts`): one, so the
 * node's event loop (pings, load reports, streams) runs between images. Batching gains little on
 * wasm (MobileNetV2: ~38 ms per image at batch 8, ~41 ms at batch 1) and a batch of 8 holds the
 * loop for 8 times as long, long enough on a loaded machine for peers to drop the connection.
 */
export const DEFAULT_FEATURE_BATCH = 1
