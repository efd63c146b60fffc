/**
 * Run the packaged real models on the drawn example frames of
 * `examples/inputs/frames.ts`, through edge-mesh's model runtime:
 *
 * - `human:movenet-lightning` on the 192x192 person: the 17 keypoints
 *   (MoveNet's output `[1, 1, 17, 3]` holds y, x in [0, 1] and a score);
 * - `human:blazeface` on the 256x256 face: the best anchor's face score
 *   (output 3, `[1, 384, 1]`, and output 0, `[1, 512, 1]`, hold logits);
 * - `nsfwjs:mobilenet_v2` on the face resized to 224x224: the five class
 *   probabilities (drawing, hentai, neutral, porn, sexy).
 *
 * Each model is resolved from its installed npm package (see docs/models.md);
 * nothing is downloaded. Run from the repository root:
 *
 * ```sh
 * npx tsc -p . && npx node dist/examples/models/run-packaged.js
 * ```
 */
import { createModelRuntime } from '../../src/model/index.js'
import { faceFrame, frameTensor, personFrame } from '../inputs/frames.js'
import type { Frame } from '../inputs/frames.js'
import type { TfModelRuntime } from '../../src/model/index.js'

const KEYPOINTS = [
  'nose', 'left eye', 'right eye', 'left ear', 'right ear', 'left shoulder', 'right shoulder', 'left elbow', 'right elbow',
  'left wrist', 'right wrist', 'left hip', 'right hip', 'left knee', 'right knee', 'left ankle', 'right ankle'
]
const NSFWJS_CLASSES = ['drawing', 'hentai', 'neutral', 'porn', 'sexy']

/** Nearest-neighbour resize (enough for an example input). */
function resize (frame: Frame, size: number): Frame {
  const rgb = new Uint8Array(size * size * 3)
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const from = (Math.floor(y * frame.height / size) * frame.width + Math.floor(x * frame.width / size)) * 3
      rgb.set(frame.rgb.subarray(from, from + 3), (y * size + x) * 3)
    }
  }
  return { width: size, height: size, rgb }
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v))

async function movenet (runtime: TfModelRuntime): Promise<void> {
  const model = await runtime.loadFromDir('human:movenet-lightning')
  const [out] = await runtime.predict(model.id, [frameTensor(personFrame(), 'int32')])
  console.log(`${model.name} (${model.id.slice(0, 19)}…): keypoints of the drawn person (y, x in pixels, score)`)
  KEYPOINTS.forEach((name, k) => {
    const [y, x, score] = out.data.slice(3 * k, 3 * k + 3)
    console.log(`  ${name.padEnd(15)} ${(y * 192).toFixed(0).padStart(4)} ${(x * 192).toFixed(0).padStart(4)}  ${score.toFixed(2)}`)
  })
}

async function blazeface (runtime: TfModelRuntime): Promise<void> {
  const model = await runtime.loadFromDir('human:blazeface')
  const outputs = await runtime.predict(model.id, [frameTensor(faceFrame(), 'float32')])
  const scores = outputs.filter((o) => o.shape[2] === 1).flatMap((o) => Array.from(o.data, sigmoid))
  console.log(`${model.name} (${model.id.slice(0, 19)}…): best face score on the drawn face ${Math.max(...scores).toFixed(3)}`)
}

async function mobilenet (runtime: TfModelRuntime): Promise<void> {
  const model = await runtime.loadFromDir('nsfwjs:mobilenet_v2')
  const [probs] = await runtime.predict(model.id, [frameTensor(resize(faceFrame(), 224), 'float32')])
  const ranked = NSFWJS_CLASSES.map((name, i) => `${name} ${probs.data[i].toFixed(3)}`)
  console.log(`${model.name} (${model.id.slice(0, 19)}…): ${ranked.join(', ')}`)
}

async function main (): Promise<void> {
  const runtime = await createModelRuntime()
  console.log(`TF.js backend: ${runtime.backend}`)
  try {
    await movenet(runtime)
    await blazeface(runtime)
    await mobilenet(runtime)
    for (const m of runtime.list()) {
      console.log(`${m.name}: ${m.format}, ${m.parameters} parameters, ${(m.timing?.p50Ms ?? 0).toFixed(1)} ms for its first inference`)
    }
  } finally {
    runtime.unloadAll()
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
