/**
 * The DP table of docs/privacy.md: held-out accuracy of DP-FedAvg (central
 * form) on IID MNIST against ε, 100 virtual clients in simulate mode, C=0.1,
 * E=1, B=10, a fixed number of rounds, one seed. For each target ε the noise
 * multiplier is the smallest that keeps ε at or below it after all rounds
 * (RDP accountant, δ = 1e-5); ε = ∞ clips without noise.
 *
 *   npx tsc -p . && npx node dist/examples/privacy/dp-table.js [--rounds 20] [--clip 1] [--seed 0]
 *
 * Prints one line per run and a Markdown table, which it also writes into
 * docs/privacy.md between the `<!-- dp-table -->` and `<!-- /dp-table -->` markers.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { runMnistExperiment } from '../../src/experiments/mnist.js'
import { noiseMultiplierFor } from '../../src/federated/privacy/accountant.js'
import { createModelRuntime } from '../../src/model/index.js'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' }, clip: { type: 'string', default: '1' }, seed: { type: 'string', default: '0' } } })
const rounds = Number(values.rounds)
const clipNorm = Number(values.clip)
const seed = Number(values.seed)
const delta = 1e-5
const q = 0.1
const runtime = await createModelRuntime()
const rows: string[] = []
const plain = await runMnistExperiment({ runtime, clients: 100, fraction: q, rounds, seed, partition: 'iid' })
rows.push(`| no DP (plain FedAvg) | - | - | ${(plain.finalAccuracy * 100).toFixed(1)} % |`)
process.stderr.write(`plain: ${(plain.finalAccuracy * 100).toFixed(2)} %\n`)
for (const target of [Infinity, 8, 4, 1]) {
  const z = target === Infinity ? 0 : noiseMultiplierFor(target, q, rounds, delta)
  const r = await runMnistExperiment({ runtime, clients: 100, fraction: q, rounds, seed, partition: 'iid', dp: { mode: 'central', clipNorm, noiseMultiplier: z, delta } })
  const eps = r.records.at(-1)?.privacy?.epsilon ?? Infinity
  process.stderr.write(`target ε ${target}: z ${z.toFixed(3)}, ε ${eps.toFixed(2)}, accuracy ${(r.finalAccuracy * 100).toFixed(2)} %\n`)
  rows.push(`| ${target === Infinity ? '∞ (clipping only)' : `≈ ${target}`} | ${z.toFixed(3)} | ${Number.isFinite(eps) ? eps.toFixed(2) : '∞'} | ${(r.finalAccuracy * 100).toFixed(1)} % |`)
}
const table = [
  `DP-FedAvg, central form, IID MNIST (8,000 training digits), 100 clients, C=${q} (m=10 per round), E=1, B=10, lr 0.05, ${rounds} rounds, clip norm ${clipNorm}, δ=${delta}, seed ${seed}; produced by \`examples/privacy/dp-table.ts\`.`,
  '',
  '| target ε | noise multiplier z | ε reached | held-out accuracy |',
  '|---|---|---|---|',
  ...rows
].join('\n') + '\n'
process.stdout.write(table)
const doc = fileURLToPath(new URL('../../../docs/privacy.md', import.meta.url))
const text = readFileSync(doc, 'utf8')
const start = text.indexOf('<!-- dp-table -->')
const end = text.indexOf('<!-- /dp-table -->')
if (start < 0 || end < start) throw new Error('docs/privacy.md lacks the <!-- dp-table --> markers')
writeFileSync(doc, `${text.slice(0, start)}<!-- dp-table -->\n${table}${text.slice(end)}`)
