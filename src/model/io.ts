/**
 * Disk and memory IO for TF.js layers and graph models. `tf.io.fileSystem`
 * exists only in `@tensorflow/tfjs-node`, so edge-mesh reads and writes the
 * format itself.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type * as tf from '@tensorflow/tfjs'
import { InvalidModelError } from '../errors.js'
import { concatBytes, entryByteLength, modelFormat, parseModelJson } from './canonical.js'
import { MODEL_JSON_FILE_NAME, WEIGHTS_FILE_NAME } from './constants.js'
import type { RawModel, WeightSpec } from './canonical.js'
import type { ModelArtifacts, ModelFormat } from './types.js'

/**
 * An IOHandler that loads a TF.js layers or graph model from a directory
 * holding `model.json` (or `jsonFile`) and the weight files its manifest names
 * (as written by `tensorflowjs_converter` or `model.save`). Missing or
 * malformed files are InvalidModelErrors.
 */
export function fileSystemLoader (dir: string, jsonFile = MODEL_JSON_FILE_NAME): tf.io.IOHandler & { loadRaw(): Promise<RawModel> } {
  const loadRaw = async (): Promise<RawModel> => {
    const json = await readModelFile(dir, jsonFile)
    const parsed = parseModelJson(json)
    const parts: Uint8Array[] = []
    for (const [index, group] of parsed.groups.entries()) {
      const files = await Promise.all(group.paths.map(async (p) => readModelFile(dir, p)))
      const bytes = concatBytes(files)
      const expected = group.weights.reduce((n, e) => n + entryByteLength(e), 0)
      if (bytes.byteLength !== expected) {
        throw new InvalidModelError(`weight files of weightsManifest[${index}] (${group.paths.join(', ')}) hold ${bytes.byteLength} bytes but the manifest describes ${expected}`)
      }
      parts.push(bytes)
    }
    const { groups, ...rest } = parsed
    return { ...rest, weightData: concatBytes(parts) }
  }
  return {
    loadRaw,
    load: async () => {
      const raw = await loadRaw()
      return {
        format: modelFormat(raw),
        modelTopology: raw.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        signature: raw.signature as tf.io.ModelArtifacts['signature'],
        weightSpecs: raw.weightSpecs,
        weightData: toArrayBuffer(raw.weightData)
      }
    }
  }
}

/** An IOHandler that hands canonical parts to `tf.loadLayersModel` or `tf.loadGraphModel`. */
export function memoryLoader (topology: object, specs: WeightSpec[], weights: Uint8Array, format: ModelFormat = 'layers-model', signature?: object): tf.io.IOHandler {
  return {
    load: async () => ({
      format,
      modelTopology: topology as tf.io.ModelArtifacts['modelTopology'],
      signature,
      weightSpecs: specs,
      weightData: toArrayBuffer(weights)
    })
  }
}

/** Write canonical artifacts as `<dir>/model.json` and `<dir>/weights.bin` (a folder `loadFromDir` and `tf.loadLayersModel` read). */
export async function writeModelDir (dir: string, artifacts: ModelArtifacts): Promise<void> {
  await mkdir(dir, { recursive: true })
  await writeFile(path.join(dir, MODEL_JSON_FILE_NAME), artifacts.modelJson)
  await writeFile(path.join(dir, WEIGHTS_FILE_NAME), artifacts.weights)
}

/** A fresh ArrayBuffer holding exactly the bytes of `bytes`. */
export function toArrayBuffer (bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength)
  copy.set(bytes)
  return copy.buffer
}

async function readModelFile (dir: string, name: string): Promise<Uint8Array> {
  const root = path.resolve(dir)
  const file = path.resolve(root, name)
  if (file !== root && !file.startsWith(root + path.sep)) throw new InvalidModelError(`weight path "${name}" points outside ${dir}`)
  try {
    return new Uint8Array(await readFile(file))
  } catch (err: any) {
    if (err.code === 'ENOENT') throw new InvalidModelError(`missing file ${file}`)
    throw new InvalidModelError(`cannot read ${file}: ${String(err.message)}`)
  }
}
