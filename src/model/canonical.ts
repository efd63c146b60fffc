/**
 * Canonical model artifacts and content ids (specified in docs/protocols.md,
 * "Model content ids").
 *
 * Any TF.js layers or graph model, wherever it comes from (a converter's
 * output folder, a peer, `createMlp`), is reduced to one canonical
 * `model.json` plus one `weights.bin`; its content id is the SHA-256 of those
 * bytes. The same model therefore has the same id on every peer, and any
 * weight change changes it.
 */
import { createHash } from 'node:crypto'
import * as tf from '@tensorflow/tfjs'
import { InvalidModelError } from '../errors.js'
import { CONTENT_ID_PREFIX, MAX_MODEL_JSON_BYTES, MAX_WEIGHTS_BYTES, WEIGHTS_FILE_NAME } from './constants.js'
import type { DType, ModelArtifacts, ModelFormat } from './types.js'

/** One weight of a canonical manifest. */
export interface WeightSpec {
  name: string
  shape: number[]
  dtype: DType
}

/** A parsed canonical model: its topology, weight specs and bytes. */
export interface CanonicalModel {
  artifacts: ModelArtifacts
  id: string
  /** `layers-model` or `graph-model`. */
  format: ModelFormat
  /** `modelTopology` of model.json, as given (a Keras config or a GraphDef as JSON). */
  topology: Record<string, unknown>
  /** A graph model's `signature` (input and output names, dtypes, shapes), when the source had one. */
  signature?: Record<string, unknown>
  specs: WeightSpec[]
}

/** A model as read from anywhere, before canonicalisation (weight specs may be quantised). */
export interface RawModel {
  format?: unknown
  modelTopology: unknown
  signature?: unknown
  /** A graph model's hash-table initialiser; edge-mesh refuses models that have one. */
  modelInitializer?: unknown
  weightSpecs: tf.io.WeightsManifestEntry[]
  weightData: Uint8Array
}

/** One group of a `weightsManifest`: weight files and the weights they hold, in order. */
export interface ManifestGroup {
  paths: string[]
  weights: tf.io.WeightsManifestEntry[]
}

const QUANTIZED_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 }

/** JSON with object keys sorted (by UTF-16 code units, as `Array.prototype.sort`) and no whitespace. */
export function canonicalJson (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value).sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
    return `{${entries.join(',')}}`
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new InvalidModelError('model.json holds a non-finite number')
  return JSON.stringify(value)
}

/** `sha256-<hex>` over model.json bytes, one 0x00 byte, then the weight bytes. */
export function contentId (artifacts: ModelArtifacts): string {
  const hash = createHash('sha256')
  hash.update(artifacts.modelJson)
  hash.update(new Uint8Array([0]))
  hash.update(artifacts.weights)
  return CONTENT_ID_PREFIX + hash.digest('hex')
}

/** Number of scalars in a tensor of `shape`. */
export function sizeOf (shape: number[]): number {
  return shape.reduce((n, d) => n * d, 1)
}

/** Bytes a manifest entry occupies in a weights file. */
export function entryByteLength (entry: tf.io.WeightsManifestEntry): number {
  const perValue = entry.quantization != null ? QUANTIZED_BYTES[entry.quantization.dtype] : 4
  return sizeOf(entry.shape) * perValue
}

/** Parse model.json bytes into its parts; a malformed file is an InvalidModelError. */
export function parseModelJson (bytes: Uint8Array): Omit<RawModel, 'weightData'> & { groups: ManifestGroup[] } {
  if (bytes.byteLength > MAX_MODEL_JSON_BYTES) throw new InvalidModelError(`model.json is larger than ${MAX_MODEL_JSON_BYTES} bytes`)
  let json: any
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (err: any) {
    throw new InvalidModelError(`model.json is not valid JSON: ${err.message}`)
  }
  if (json == null || typeof json !== 'object' || Array.isArray(json)) throw new InvalidModelError('model.json is not a JSON object')
  if (json.modelTopology == null || typeof json.modelTopology !== 'object') throw new InvalidModelError('model.json has no modelTopology object (a TF.js layers or graph model is expected)')
  if (!Array.isArray(json.weightsManifest)) throw new InvalidModelError('model.json has no weightsManifest array')
  const groups = json.weightsManifest.map(checkGroup)
  return {
    format: json.format,
    modelTopology: json.modelTopology,
    signature: json.signature,
    modelInitializer: json.modelInitializer,
    weightSpecs: groups.flatMap((g: ManifestGroup) => g.weights),
    groups
  }
}

function checkGroup (group: any, index: number): ManifestGroup {
  if (group == null || !Array.isArray(group.paths) || !group.paths.every((p: unknown) => typeof p === 'string')) {
    throw new InvalidModelError(`weightsManifest[${index}] has no paths list`)
  }
  if (!Array.isArray(group.weights)) throw new InvalidModelError(`weightsManifest[${index}] has no weights list`)
  group.weights.forEach(checkEntry)
  return group
}

function checkEntry (entry: any): void {
  const where = `weight "${String(entry?.name)}"`
  if (typeof entry?.name !== 'string' || entry.name === '') throw new InvalidModelError('a weightsManifest entry has no name')
  if (!Array.isArray(entry.shape) || !entry.shape.every((d: unknown) => Number.isInteger(d) && (d as number) >= 0)) {
    throw new InvalidModelError(`${where} has an invalid shape`)
  }
  if (entry.dtype !== 'float32' && entry.dtype !== 'int32') throw new InvalidModelError(`${where} has unsupported dtype ${String(entry.dtype)}`)
  if (entry.quantization != null && QUANTIZED_BYTES[entry.quantization.dtype] == null) {
    throw new InvalidModelError(`${where} has unsupported quantization ${String(entry.quantization.dtype)}`)
  }
}

/**
 * The format of a raw model: its `format` field, or, when that is absent (old
 * converter output), `graph-model` for a topology with a GraphDef `node` list
 * and `layers-model` otherwise.
 */
export function modelFormat (raw: Pick<RawModel, 'format' | 'modelTopology'>): ModelFormat {
  if (raw.format === 'layers-model' || raw.format === 'graph-model') return raw.format
  if (raw.format != null) throw new InvalidModelError(`model format "${String(raw.format)}" is not supported; expected layers-model or graph-model`)
  return Array.isArray((raw.modelTopology as { node?: unknown } | null)?.node) ? 'graph-model' : 'layers-model'
}

/**
 * Reduce a raw model to canonical artifacts: quantised weights are expanded to
 * their dtype, every weight is written in manifest order into one
 * `weights.bin`, and model.json keeps only `format`, `modelTopology`, a graph
 * model's `signature` and the single-group `weightsManifest`, serialised by
 * `canonicalJson` (see docs/protocols.md, "Model content ids").
 */
export function canonicalise (raw: RawModel): CanonicalModel {
  const format = modelFormat(raw)
  const topology = raw.modelTopology
  if (topology == null || typeof topology !== 'object' || Array.isArray(topology)) throw new InvalidModelError('modelTopology is not an object')
  const signature = format === 'graph-model' ? checkGraph(raw) : undefined
  const names = new Set<string>()
  for (const entry of raw.weightSpecs) {
    if (names.has(entry.name)) throw new InvalidModelError(`weight "${entry.name}" appears twice in the manifest`)
    names.add(entry.name)
  }
  const expected = raw.weightSpecs.reduce((n, e) => n + entryByteLength(e), 0)
  if (expected > MAX_WEIGHTS_BYTES) throw new InvalidModelError(`weights are larger than ${MAX_WEIGHTS_BYTES} bytes`)
  if (raw.weightData.byteLength !== expected) {
    throw new InvalidModelError(`weight data is ${raw.weightData.byteLength} bytes but the manifest describes ${expected}`)
  }
  const weights = raw.weightSpecs.some((e) => e.quantization != null) ? dequantise(raw) : raw.weightData
  const specs: WeightSpec[] = raw.weightSpecs.map((e) => ({ name: e.name, shape: [...e.shape], dtype: e.dtype as DType }))
  const modelJson = {
    format,
    modelTopology: topology,
    signature,
    weightsManifest: [{ paths: [WEIGHTS_FILE_NAME], weights: specs }]
  }
  const artifacts: ModelArtifacts = { modelJson: new TextEncoder().encode(canonicalJson(modelJson)), weights }
  return { artifacts, id: contentId(artifacts), format, topology: topology as Record<string, unknown>, signature, specs }
}

/** Check what a graph model must have (a `node` list, no initialiser); returns its signature, if any. */
function checkGraph (raw: RawModel): Record<string, unknown> | undefined {
  if (!Array.isArray((raw.modelTopology as { node?: unknown }).node)) throw new InvalidModelError('graph model topology has no node list')
  if (raw.modelInitializer != null) throw new InvalidModelError('graph models with a modelInitializer (hash tables) are not supported')
  if (raw.signature == null) return undefined
  if (typeof raw.signature !== 'object' || Array.isArray(raw.signature)) throw new InvalidModelError('graph model signature is not an object')
  return raw.signature as Record<string, unknown>
}

/** Canonicalise artifacts received from a peer or a cache (they are usually canonical already). */
export function canonicaliseArtifacts (artifacts: ModelArtifacts): CanonicalModel {
  const parsed = parseModelJson(artifacts.modelJson)
  return canonicalise({ ...parsed, weightData: artifacts.weights })
}

/** Expand quantised weights with TF.js's own decoder, then write every weight as 4-byte values. */
function dequantise (raw: RawModel): Uint8Array {
  const buffer = raw.weightData.slice().buffer
  const map = tf.io.decodeWeights(buffer, raw.weightSpecs)
  try {
    const parts = raw.weightSpecs.map((e) => {
      const values = map[e.name].dataSync()
      return new Uint8Array(values.buffer, values.byteOffset, values.byteLength)
    })
    return concatBytes(parts)
  } finally {
    tf.dispose(Object.values(map))
  }
}

/** Concatenate byte arrays into one new array. */
export function concatBytes (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}
