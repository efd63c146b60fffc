/**
 * Cut a layers model at an inner layer: the frozen base of transfer learning.
 * The part from the inputs to `outputLayer` becomes a model of its own (a
 * feature extractor, e.g. MobileNetV2 up to its 1280 pooled features), with
 * the same weights, canonicalised and content-addressed like any other model
 * so peers can fetch it and compute the same features.
 */
import * as tf from '@tensorflow/tfjs'
import { InvalidModelError, ModelNotTrainableError } from '../errors.js'
import { canonicalise } from './canonical.js'
import { memoryLoader } from './io.js'
import { packagedModel } from './packaged.js'
import type { RawModel } from './canonical.js'

/** The raw artifacts of `model` cut after `outputLayer`. */
export async function cutAt (model: tf.LayersModel, outputLayer: string): Promise<RawModel> {
  let layer: tf.layers.Layer
  try {
    layer = model.getLayer(outputLayer)
  } catch {
    throw new InvalidModelError(`the model has no layer "${outputLayer}"`)
  }
  const base = tf.model({ inputs: model.inputs, outputs: layer.output as tf.SymbolicTensor, name: `${model.name}_to_${outputLayer}` })
  let saved: tf.io.ModelArtifacts | undefined
  await base.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts
    return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } }
  }))
  if (saved?.weightSpecs == null || saved.weightData == null) throw new InvalidModelError(`cutting at "${outputLayer}" produced no weights`)
  const data = saved.weightData
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(await new Blob(data as ArrayBuffer[]).arrayBuffer())
  return { format: 'layers-model', modelTopology: saved.modelTopology, weightSpecs: saved.weightSpecs, weightData: bytes }
}

/**
 * The frozen base of packaged layers model `name` (an installed package's
 * model, never a path): the model cut after `layer`, by default the
 * catalog's `featureLayer`. The whole model is built only to be cut, then
 * disposed; the returned artifacts are canonicalised by the caller.
 */
export async function packagedBase (name: string, layer?: string): Promise<{ raw: RawModel, layer: string }> {
  const entry = packagedModel(name)
  const at = layer ?? entry.featureLayer
  if (at === undefined) throw new ModelNotTrainableError(`packaged model ${name} has no default feature layer; name one`)
  // Each step holds the event loop for a while on a large model (MobileNetV2: about a second
  // each on a loaded machine): let timers and network I/O run between them.
  const canonical = canonicalise(await entry.load())
  await yieldToLoop()
  if (canonical.format !== 'layers-model') throw new ModelNotTrainableError(`packaged model ${name} is a ${canonical.format}; only layers models can be cut at a layer`)
  const whole = await tf.loadLayersModel(memoryLoader(canonical.topology, canonical.specs, canonical.artifacts.weights))
  await yieldToLoop()
  try {
    return { raw: await cutAt(whole, at), layer: at }
  } finally {
    whole.dispose()
  }
}

async function yieldToLoop (): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve))
}
