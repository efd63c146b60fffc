/**
 * Top-k variants on IID MNIST at equal rounds (100 clients, C=0.1 unless --fraction, E=1, B=10):
 * one line of JSON per variant, for choosing DGC settings.
 *
 *   npx tsc -p . && npx node dist/examples/privacy/topk-sweep.js --rounds 20 --seed 0 \
 *     --variant '{"ratio":0.01}' --variant '{"ratio":0.01,"momentum":0.9,"warmupRounds":3,"warmupDensity":0.1}'
 *
 * A variant is a Compression: `{ "scheme": "none" }`, `{ "scheme": "int8" }`, or top-k
 * options (`ratio`, `momentum`, `clipNorm`, `warmupRounds`, `warmupDensity`, `staleness`,
 * `average`: e.g. `'{"ratio":0.01,"momentum":0,"warmupRounds":0,"staleness":1,"average":"senders"}'`).
 */
import { parseArgs } from 'node:util'
import { runMnistExperiment } from '../../src/experiments/mnist.js'
import { createModelRuntime } from '../../src/model/index.js'
import { topKOptions } from '../../src/federated/privacy/compression.js'
import type { Compression } from '../../src/federated/privacy/compression.js'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' }, seed: { type: 'string', default: '0' }, fraction: { type: 'string', default: '0.1' }, variant: { type: 'string', multiple: true, default: [] } } })
const runtime = await createModelRuntime()
for (const text of values.variant) {
  const v = JSON.parse(text)
  const compression: Compression = v.scheme === 'none' || v.scheme === 'int8' ? v : { scheme: 'topk', ...topKOptions(v.ratio, v) }
  const started = performance.now()
  const r = await runMnistExperiment({ runtime, clients: 100, fraction: Number(values.fraction), epochs: 1, batchSize: 10, rounds: Number(values.rounds), partition: 'iid', seed: Number(values.seed), compression })
  const bytesUp = r.records.reduce((n, x) => n + x.bytesUp, 0)
  process.stdout.write(JSON.stringify({ variant: v, seed: Number(values.seed), fraction: Number(values.fraction), finalAccuracy: r.finalAccuracy, bytesUp, accuracies: r.records.map((x) => Math.round(x.accuracy * 1000) / 1000), wallS: Math.round((performance.now() - started) / 1000) }) + '\n')
}
