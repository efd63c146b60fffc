/**
 * Federated fine-tuning of a real model's head, in simulate mode (all
 * clients in this process, on an in-memory grid): MobileNetV2 of the `nsfwjs`
 * package is cut after its pooled 1280 features (`flatten_1`) into a frozen
 * base; each client computes the features of its own MNIST digits (resized
 * to 224x224 RGB) with it, locally; only a new 1280-64-10 head is federated
 * with FedAvg.
 *
 * Training the whole MobileNetV2 is not possible on the wasm backend
 * (`Conv2DBackpropFilter` is not registered there) and takes minutes per step
 * on cpu; the head trains in milliseconds.
 *
 * - data: `loadMnist()` digits 0..479 train (6 IID clients of 80), 8000..8199 test;
 * - head: `createMlp({ inputSize: 1280, hidden: [64], classes: 10, seed: 1 })`;
 * - FedAvg, all clients every round, E = 5, B = 16, learning rate 0.1, 10 rounds.
 *
 * The same fine-tuning over the mesh with real processes is a run spec with
 * `base` and `head` (docs/models.md, "over the mesh").
 *
 * Run from the repository root (feature extraction takes about a minute on a
 * 2-core machine):
 *
 * ```sh
 * npx tsc -p . && npx node dist/examples/models/fine-tune-head.js
 * ```
 */
import { createMemoryGrid, createStrategy, partitionIndices, runFederated } from '../../src/federated/index.js'
import { createModelRuntime, extractFeatures, loadMnist, sliceDataset, subsetDataset } from '../../src/model/index.js'

const TRAIN = [0, 480] as const
const TEST = [8000, 8200] as const
const CLIENTS = 6
const ROUNDS = 10
/** Images per feature-extraction call. */
const BATCH = 8

async function main (): Promise<void> {
  const runtime = await createModelRuntime()
  const base = await runtime.createFeatureBase('nsfwjs:mobilenet_v2', 'flatten_1')
  console.log(`frozen base ${base.id.slice(0, 19)}…: ${base.inputShapes[0].join('x')} -> ${base.outputShapes[0].join('x')}, ${base.parameters} parameters`)
  const digits = loadMnist()
  const started = performance.now()
  // Each 28x28 digit is upscaled (nearest neighbour) to the base's 224x224 RGB input.
  const train = await extractFeatures(runtime, base.id, sliceDataset(digits, ...TRAIN), { batchSize: BATCH })
  const test = await extractFeatures(runtime, base.id, sliceDataset(digits, ...TEST), { batchSize: BATCH })
  console.log(`features of ${train.count + test.count} digits in ${((performance.now() - started) / 1000).toFixed(1)} s (${runtime.backend})`)

  const head = await runtime.createMlp({ inputSize: train.featureShape[0], hidden: [64], classes: 10, seed: 1, name: 'head' })
  const parts = partitionIndices(train.y, CLIENTS, 'iid', 1)
  const grid = createMemoryGrid({ runtime, clients: parts.map((indices, i) => ({ id: `client-${i}`, data: subsetDataset(train, indices) })) })
  const initialWeights = runtime.getWeights(head.id)
  const before = await runtime.evaluate(head.id, initialWeights, test)
  console.log(`round 0: test accuracy ${before.accuracy.toFixed(3)}`)
  await runFederated({
    grid,
    strategy: createStrategy('fedavg', { epochs: 5, batchSize: 16, learningRate: 0.1 }),
    runtime,
    baseModelId: head.id,
    initialWeights,
    rounds: ROUNDS,
    fraction: 1,
    minParticipants: CLIENTS,
    evaluate: async (weights, options) => await runtime.evaluate(head.id, weights, test, options),
    onRound: (r) => { console.log(`round ${r.round}: test accuracy ${r.accuracy.toFixed(3)}, loss ${r.loss.toFixed(3)}, ${r.participants} clients`) }
  })
  runtime.unloadAll()
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
