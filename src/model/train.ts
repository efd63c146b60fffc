/**
 * The local training loop and evaluation for classification models.
 *
 * Training is plain mini-batch SGD on sparse categorical cross-entropy,
 * optionally with the FedProx proximal term `mu/2 * ||w - w0||^2` (w0 = the
 * starting weights). Batches are drawn from a seeded permutation per epoch,
 * the loop yields to the event loop every `yieldEveryBatches` batches and
 * honours `config.signal`. Every tensor it creates is disposed.
 */
import * as tf from '@tensorflow/tfjs'
import { AbortError, InvalidConfigError, InvalidTensorError } from '../errors.js'
import {
  DEFAULT_BATCH_SIZE, DEFAULT_EPOCHS, DEFAULT_LEARNING_RATE, DEFAULT_PROXIMAL_MU,
  DEFAULT_TRAIN_SEED, DEFAULT_YIELD_EVERY_BATCHES, EPSILON, EVAL_BATCH_SIZE
} from './constants.js'
import { mulberry32, permutation } from './random.js'
import { formatShape } from './tensors.js'
import type { Dataset, EvalResult, TrainConfig } from './types.js'
import type { AbortOptions } from '@libp2p/interface'

/** Loss and accuracy summed over examples. */
interface Totals { loss: number, correct: number, count: number }

/** `TrainConfig` with every default filled in and checked. */
export type TrainSettings = Required<Omit<TrainConfig, 'signal' | 'onBatch'>> & Pick<TrainConfig, 'signal' | 'onBatch'>

/** Fill defaults from constants.ts and reject values that make no sense. */
export function trainSettings (config: TrainConfig = {}): TrainSettings {
  const s: TrainSettings = {
    epochs: config.epochs ?? DEFAULT_EPOCHS,
    batchSize: config.batchSize ?? DEFAULT_BATCH_SIZE,
    learningRate: config.learningRate ?? DEFAULT_LEARNING_RATE,
    proximalMu: config.proximalMu ?? DEFAULT_PROXIMAL_MU,
    seed: config.seed ?? DEFAULT_TRAIN_SEED,
    yieldEveryBatches: config.yieldEveryBatches ?? DEFAULT_YIELD_EVERY_BATCHES,
    signal: config.signal,
    onBatch: config.onBatch
  }
  const check = (ok: boolean, what: string): void => { if (!ok) throw new InvalidConfigError(what) }
  check(Number.isInteger(s.epochs) && s.epochs >= 1, `epochs must be an integer >= 1, got ${s.epochs}`)
  check(Number.isInteger(s.batchSize) && s.batchSize >= 0, `batchSize must be an integer >= 0, got ${s.batchSize}`)
  check(Number.isFinite(s.learningRate) && s.learningRate > 0, `learningRate must be > 0, got ${s.learningRate}`)
  check(Number.isFinite(s.proximalMu) && s.proximalMu >= 0, `proximalMu must be >= 0, got ${s.proximalMu}`)
  check(Number.isInteger(s.seed), `seed must be an integer, got ${s.seed}`)
  check(Number.isInteger(s.yieldEveryBatches) && s.yieldEveryBatches >= 1, `yieldEveryBatches must be an integer >= 1, got ${s.yieldEveryBatches}`)
  return s
}

/** Throw AbortError when the signal has fired. */
export function throwIfAborted (options?: AbortOptions, what = 'operation'): void {
  if (options?.signal?.aborted === true) throw new AbortError(`${what} aborted`)
}

/**
 * Check that `data` fits a single-input, single-output classifier: feature
 * shape equals the input shape without the batch, sizes agree, labels are
 * class indices below the number of outputs.
 */
export function checkDataset (model: tf.LayersModel, data: Dataset): { classes: number } {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new InvalidTensorError('training needs a model with one input and one output')
  const inputShape = model.inputs[0].shape.slice(1).map((d) => d ?? -1)
  const outputShape = model.outputs[0].shape
  if (outputShape.length !== 2 || outputShape[1] == null) throw new InvalidTensorError(`training needs an output of shape [-1,classes], model has ${formatShape(outputShape.map((d) => d ?? -1))}`)
  const classes = outputShape[1]
  const fits = data.featureShape.length === inputShape.length && data.featureShape.every((d, i) => inputShape[i] === -1 || inputShape[i] === d)
  if (!fits) throw new InvalidTensorError(`data set feature shape ${formatShape(data.featureShape)} does not match model input ${formatShape(inputShape)}`)
  const features = data.featureShape.reduce((n, d) => n * d, 1)
  if (data.x.length !== data.count * features) throw new InvalidTensorError(`data set x holds ${data.x.length} values, expected count ${data.count} x ${features}`)
  if (data.y.length !== data.count) throw new InvalidTensorError(`data set y holds ${data.y.length} labels, expected ${data.count}`)
  for (let i = 0; i < data.count; i++) {
    const label = data.y[i]
    if (label < 0 || label >= classes) throw new InvalidTensorError(`label ${label} of example ${i} is outside 0..${classes - 1}`)
  }
  return { classes }
}

/** True when the model's last layer already applies softmax (its output is probabilities, not logits). */
function outputsProbabilities (model: tf.LayersModel): boolean {
  const layer = model.layers[model.layers.length - 1]
  return (layer.getConfig() as { activation?: unknown }).activation === 'softmax'
}

/** Per-example negative log-likelihood and correctness of a batch. */
function batchLosses (model: tf.LayersModel, xs: tf.Tensor, ys: tf.Tensor1D, classes: number, training: boolean): { nll: tf.Tensor1D, correct: tf.Scalar } {
  const out = model.apply(xs, { training }) as tf.Tensor2D
  const logProbs = outputsProbabilities(model) ? tf.log(tf.clipByValue(out, EPSILON, 1 - EPSILON)) : tf.logSoftmax(out)
  const nll = tf.neg(tf.sum(tf.mul(tf.oneHot(ys, classes), logProbs), 1)) as tf.Tensor1D
  const correct = tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), ys), 'int32')) as tf.Scalar
  return { nll, correct }
}

/** Copy the rows `order[start..end)` of `data` into batch tensors. */
function makeBatch (data: Dataset, order: Int32Array, start: number, end: number): { xs: tf.Tensor, ys: tf.Tensor1D } {
  const features = data.featureShape.reduce((n, d) => n * d, 1)
  const x = new Float32Array((end - start) * features)
  const y = new Int32Array(end - start)
  for (let i = start; i < end; i++) {
    const row = order[i]
    x.set(data.x.subarray(row * features, (row + 1) * features), (i - start) * features)
    y[i - start] = data.y[row]
  }
  return { xs: tf.tensor(x, [end - start, ...data.featureShape]), ys: tf.tensor1d(y, 'int32') }
}

/**
 * Train `model` in place. Returns the mean loss (cross-entropy, without the
 * proximal term) and training accuracy of the last epoch.
 */
export async function trainModel (model: tf.LayersModel, data: Dataset, s: TrainSettings): Promise<{ loss: number, accuracy: number }> {
  const { classes } = checkDataset(model, data)
  if (data.count === 0) return { loss: 0, accuracy: 0 }
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable)
  const start = s.proximalMu > 0 ? vars.map((v) => tf.keep(v.clone())) : []
  const optimizer = tf.train.sgd(s.learningRate)
  const random = mulberry32(s.seed)
  const batchSize = s.batchSize === 0 ? data.count : Math.min(s.batchSize, data.count)
  let batches = 0
  let last: Totals = { loss: 0, correct: 0, count: 0 }
  try {
    for (let epoch = 0; epoch < s.epochs; epoch++) {
      const order = permutation(data.count, random)
      last = { loss: 0, correct: 0, count: 0 }
      for (let b = 0; b < data.count; b += batchSize) {
        const end = Math.min(b + batchSize, data.count)
        const loss = await trainBatch(model, data, order, b, end, classes, vars, start, optimizer, s.proximalMu, last)
        s.onBatch?.(batches, loss)
        batches++
        if (batches % s.yieldEveryBatches === 0) await new Promise(setImmediate)
        throwIfAborted(s, 'training')
      }
    }
  } finally {
    optimizer.dispose()
    tf.dispose(start)
  }
  return { loss: last.loss / last.count, accuracy: last.correct / last.count }
}

async function trainBatch (model: tf.LayersModel, data: Dataset, order: Int32Array, b: number, end: number, classes: number,
  vars: tf.Variable[], start: tf.Tensor[], optimizer: tf.Optimizer, mu: number, totals: Totals): Promise<number> {
  const { xs, ys } = makeBatch(data, order, b, end)
  let kept: tf.Tensor[] = []
  try {
    const { value, grads } = tf.variableGrads(() => {
      const { nll, correct } = batchLosses(model, xs, ys, classes, true)
      const ce = tf.mean(nll) as tf.Scalar
      kept = [tf.keep(ce), tf.keep(correct)]
      if (mu === 0) return ce
      const prox = tf.addN(vars.map((v, i) => tf.sum(tf.square(tf.sub(v, start[i])))))
      return tf.add(ce, tf.mul(mu / 2, prox)) as tf.Scalar
    }, vars)
    kept.push(value)
    optimizer.applyGradients(grads)
    tf.dispose(Object.values(grads))
    const [ce, correct] = await Promise.all(kept.slice(0, 2).map(async (t) => t.data()))
    totals.loss += ce[0] * (end - b)
    totals.correct += correct[0]
    totals.count += end - b
    return ce[0]
  } finally {
    tf.dispose([xs, ys, ...kept])
  }
}

/** Mean cross-entropy and accuracy of `model` on `data`, in batches of EVAL_BATCH_SIZE. */
export async function evaluateModel (model: tf.LayersModel, data: Dataset, options?: AbortOptions): Promise<EvalResult> {
  const { classes } = checkDataset(model, data)
  const order = new Int32Array(data.count).map((_, i) => i)
  const totals: Totals = { loss: 0, correct: 0, count: 0 }
  for (let b = 0; b < data.count; b += EVAL_BATCH_SIZE) {
    throwIfAborted(options, 'evaluation')
    const end = Math.min(b + EVAL_BATCH_SIZE, data.count)
    const [loss, correct] = tf.tidy(() => {
      const { xs, ys } = makeBatch(data, order, b, end)
      const r = batchLosses(model, xs, ys, classes, false)
      return [tf.sum(r.nll), r.correct]
    })
    const values = await Promise.all([loss.data(), correct.data()])
    tf.dispose([loss, correct])
    totals.loss += values[0][0]
    totals.correct += values[1][0]
    totals.count += end - b
    await new Promise(setImmediate)
  }
  const n = Math.max(totals.count, 1)
  return { loss: totals.loss / n, accuracy: totals.correct / n, numExamples: totals.count }
}
