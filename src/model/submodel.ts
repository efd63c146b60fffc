/**
 * Cut a layers model at an inner layer: the frozen base of transfer learning.
 * The part from the inputs to `outputLayer` becomes a model of its own (a
 * feature extractor, e.g. MobileNetV2 up to its 1280 pooled features), with
 * the same weights, canonicalised and content-addressed like any other model
 * so peers can fetch it and compute the same features.
 */
import * as tf from '@tensorflow/tfjs'
import { InvalidModelError } from '../errors.js'
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
