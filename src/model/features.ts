/**
 * Features of a data set through a frozen base model: what a head trains on
 * when only the head of a model is fine-tuned (federated or not). The data
 * never leaves the device and neither do its features; only the head's
 * weights travel.
 *
 * A data set's examples are fitted to the base's input by `fitExamples`:
 * - an example with as many values as one input row is reshaped as it is
 *   (e.g. MNIST's `[784]` into an MLP taking `[784]`);
 * - otherwise an example is read as an image, `[h, w]`, `[h, w, c]` or a
 *   square `[h * h]` (one channel), and resized by nearest neighbour to the
 *   base's `[H, W, C]` input; one channel is repeated into three for an RGB
 *   base (MNIST digits into MobileNetV2's `[224, 224, 3]`).
 * Anything else is an InvalidTensorError naming both shapes.
 */
import { InvalidTensorError, ModelNotFoundError } from '../errors.js'
import { DEFAULT_FEATURE_BATCH } from './constants.js'
import type { Dataset, ModelInfo, ModelRuntime, TensorData } from './types.js'
import type { AbortOptions } from '@libp2p/interface'

/** Options of `extractFeatures`. */
export interface FeatureOptions extends AbortOptions {
  /** Use the first `examples` examples of the data set at most. @default all */
  examples?: number
  /** Examples per `predict` call (the fixed batch of a base whose batch dimension is fixed). @default 1 */
  batchSize?: number
}

const product = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1)

/** An example's shape as an image `[h, w, c]`, or undefined when it is not one. */
function asImage (shape: readonly number[]): [number, number, number] | undefined {
  if (shape.length === 3) return [shape[0], shape[1], shape[2]]
  if (shape.length === 2) return [shape[0], shape[1], 1]
  if (shape.length === 1 && Number.isInteger(Math.sqrt(shape[0]))) return [Math.sqrt(shape[0]), Math.sqrt(shape[0]), 1]
  return undefined
}

/**
 * A function writing example `k` of `data` into `out` (at `offset`) in the shape
 * of one row of `input` (the base's input shape, batch first). Throws
 * InvalidTensorError when the data cannot be fitted.
 */
export function fitExamples (data: Pick<Dataset, 'x' | 'featureShape'>, input: readonly number[]): (k: number, out: Float32Array, offset: number) => void {
  const row = input.slice(1)
  const width = product(data.featureShape)
  if (row.every((d) => d > 0) && product(row) === width) {
    return (k, out, offset) => { out.set(data.x.subarray(k * width, (k + 1) * width), offset) }
  }
  const from = asImage(data.featureShape)
  const to = row.length === 3 && row.every((d) => d > 0) ? row : undefined
  if (from === undefined || to === undefined || (from[2] !== 1 && from[2] !== to[2])) {
    throw new InvalidTensorError(`examples of shape [${data.featureShape.join(',')}] cannot be fitted to the base's input [${input.join(',')}]`)
  }
  const [h, w, c] = from
  const [H, W, C] = to
  return (k, out, offset) => {
    const src = data.x.subarray(k * width, (k + 1) * width)
    for (let y = 0; y < H; y++) {
      const sy = Math.floor(y * h / H)
      for (let x = 0; x < W; x++) {
        const at = ((sy * w) + Math.floor(x * w / W)) * c
        const dst = offset + (y * W + x) * C
        for (let ch = 0; ch < C; ch++) out[dst + ch] = src[at + (c === 1 ? 0 : ch)]
      }
    }
  }
}

/**
 * Examples `start .. start + n` of `data` as one float32 input batch of `base`,
 * padded with zero rows up to `rows` (a base whose batch dimension is fixed).
 */
export function inputBatch (data: Dataset, base: Pick<ModelInfo, 'inputShapes'>, start: number, n: number, rows = n): TensorData {
  const input = base.inputShapes[0]
  const fit = fitExamples(data, input)
  const row = input.slice(1)
  const size = product(row)
  const out = new Float32Array(rows * size)
  for (let k = 0; k < n; k++) fit(start + k, out, k * size)
  return { shape: [rows, ...row], dtype: 'float32', data: out }
}

/**
 * The features of (the first `examples` of) `data` through `baseId`: a data set
 * of the same labels whose examples are the base's flattened outputs, the
 * input of a head. Runs `predict` in batches and stops between them when
 * `signal` aborts.
 */
export async function extractFeatures (runtime: Pick<ModelRuntime, 'predict' | 'get'>, baseId: string, data: Dataset, options: FeatureOptions = {}): Promise<Dataset> {
  const base = runtime.get(baseId)
  if (base === undefined) throw new ModelNotFoundError(`base model ${baseId} is not loaded`)
  const count = Math.min(data.count, options.examples ?? data.count)
  const fixed = base.fixedBatch === true ? Math.max(1, base.inputShapes[0][0]) : undefined
  const batch = fixed ?? Math.max(1, options.batchSize ?? DEFAULT_FEATURE_BATCH)
  const width = product(base.outputShapes[0].slice(1))
  const x = new Float32Array(count * width)
  fitExamples(data, base.inputShapes[0]) // refuse data that does not fit before any prediction
  for (let start = 0; start < count; start += batch) {
    options.signal?.throwIfAborted()
    const n = Math.min(batch, count - start)
    const [out] = await runtime.predict(baseId, [inputBatch(data, base, start, n, fixed ?? n)], options)
    x.set(out.data.subarray(0, n * width), start * width)
  }
  return { x, y: data.y.slice(0, count), featureShape: [width], numClasses: data.numClasses, count }
}
