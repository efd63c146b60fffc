/**
 * Deterministic multilayer perceptrons: dense ReLU hidden layers and a softmax
 * output, with layer names fixed (`dense_1`, `dense_2`, ..., `output`) and
 * weights drawn from edge-mesh's own seeded PRNG, so the same spec and seed
 * give byte-identical artifacts (and content id) on every peer.
 */
import * as tf from '@tensorflow/tfjs'
import { InvalidConfigError } from '../errors.js'
import { canonicalise, concatBytes } from './canonical.js'
import { DEFAULT_MLP_SEED, MLP_MODEL_NAME } from './constants.js'
import { mulberry32 } from './random.js'
import type { CanonicalModel } from './canonical.js'
import type { MlpSpec } from './types.js'

/** Check that every size of the spec is a positive integer and there are at least two classes. */
export function checkMlpSpec (spec: MlpSpec): void {
  const positive = (n: unknown): boolean => Number.isInteger(n) && (n as number) > 0
  if (!positive(spec?.inputSize)) throw new InvalidConfigError(`MLP inputSize must be a positive integer, got ${String(spec?.inputSize)}`)
  if (!Array.isArray(spec.hidden) || !spec.hidden.every(positive)) throw new InvalidConfigError('MLP hidden must be a list of positive integers')
  if (!Number.isInteger(spec.classes) || spec.classes < 2) throw new InvalidConfigError(`MLP classes must be an integer >= 2, got ${String(spec.classes)}`)
  if (spec.seed != null && !Number.isInteger(spec.seed)) throw new InvalidConfigError(`MLP seed must be an integer, got ${String(spec.seed)}`)
}

/**
 * Build the canonical artifacts of an MLP. Kernels use Glorot-uniform
 * initialisation, `(2u - 1) * sqrt(6 / (fanIn + fanOut))` with `u` drawn from
 * `mulberry32(seed)` in layer order and row-major kernel order; biases are 0.
 */
export function mlpArtifacts (spec: MlpSpec): CanonicalModel {
  checkMlpSpec(spec)
  const topology = mlpTopology(spec)
  const random = mulberry32(spec.seed ?? DEFAULT_MLP_SEED)
  const sizes = [spec.inputSize, ...spec.hidden, spec.classes]
  const parts: Uint8Array[] = []
  const weightSpecs: tf.io.WeightsManifestEntry[] = []
  for (let i = 0; i + 1 < sizes.length; i++) {
    const [fanIn, fanOut] = [sizes[i], sizes[i + 1]]
    const name = layerName(i, sizes.length - 1)
    const limit = Math.sqrt(6 / (fanIn + fanOut))
    const kernel = new Float32Array(fanIn * fanOut)
    for (let k = 0; k < kernel.length; k++) kernel[k] = (2 * random() - 1) * limit
    const bias = new Float32Array(fanOut)
    parts.push(new Uint8Array(kernel.buffer), new Uint8Array(bias.buffer))
    weightSpecs.push({ name: `${name}/kernel`, shape: [fanIn, fanOut], dtype: 'float32' }, { name: `${name}/bias`, shape: [fanOut], dtype: 'float32' })
  }
  return canonicalise({ format: 'layers-model', modelTopology: topology, weightSpecs, weightData: concatBytes(parts) })
}

function layerName (index: number, layers: number): string {
  return index === layers - 1 ? 'output' : `dense_${index + 1}`
}

/** The Keras-style topology TF.js writes for the MLP (built once, then its variables are freed). */
function mlpTopology (spec: MlpSpec): object {
  const sizes = [...spec.hidden, spec.classes]
  const model = tf.sequential({
    name: MLP_MODEL_NAME,
    layers: sizes.map((units, i) => tf.layers.dense({
      units,
      name: layerName(i, sizes.length),
      activation: i === sizes.length - 1 ? 'softmax' : 'relu',
      ...(i === 0 ? { inputShape: [spec.inputSize] } : {})
    }))
  })
  try {
    return model.toJSON(null, false) as object
  } finally {
    model.dispose()
  }
}
