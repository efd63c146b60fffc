/**
 * The robustness table of the README: final held-out accuracy of FedAvg,
 * coordinate-wise median, trimmed mean and Krum on non-IID MNIST with 0%, 10%
 * and 20% byzantine clients, all in simulate mode with the same seed.
 *
 *   npx tsc -p . && npx node dist/examples/robustness/byzantine-table.js [--attack signflip] [--rounds 20] [--rows fedavg,krum+b2]
 *
 * Rows: fedavg, fedmedian, trimmed-mean, krum, the robust ones with
 * bucketing of 2 (`fedmedian+b2`, `trimmed-mean+b2`, `krum+b2`), and FLTrust
 * with a 100-digit root set at the coordinator, with the paper's cosine
 * weights (`fltrust`) and with sign weights (`fltrust-sign`). Results are
 * kept in docs/byzantine.json (keyed by row, attacker fraction and settings),
 * so `--rows` reruns only some rows (`--rows none` only prints). Prints one line per run, then a Markdown
 * table, which it also writes to docs/byzantine.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { runMnistExperiment } from '../../src/experiments/index.js'
import { createModelRuntime } from '../../src/model/index.js'
import type { StrategyName } from '../../src/federated/index.js'

const { values } = parseArgs({
  options: {
    attack: { type: 'string', default: 'signflip' },
    rounds: { type: 'string', default: '20' },
    clients: { type: 'string', default: '20' },
    seed: { type: 'string', default: '0' },
    rows: { type: 'string' }
  }
})
interface Row { key: string, name: StrategyName, label: string, bucketSize: number, trustWeighting?: 'cosine' | 'sign' }
const allRows: Row[] = [
  { key: 'fedavg', name: 'fedavg', label: 'FedAvg', bucketSize: 1 },
  { key: 'fedmedian', name: 'fedmedian', label: 'Median', bucketSize: 1 },
  { key: 'trimmed-mean', name: 'trimmed-mean', label: 'Trimmed mean (β=0.2)', bucketSize: 1 },
  { key: 'krum', name: 'krum', label: 'Multi-Krum', bucketSize: 1 },
  { key: 'fedmedian+b2', name: 'fedmedian', label: 'Median + bucketing (s=2)', bucketSize: 2 },
  { key: 'trimmed-mean+b2', name: 'trimmed-mean', label: 'Trimmed mean + bucketing (s=2)', bucketSize: 2 },
  { key: 'krum+b2', name: 'krum', label: 'Multi-Krum + bucketing (s=2)', bucketSize: 2 },
  { key: 'fltrust', name: 'fltrust', label: 'FLTrust (100 root digits)', bucketSize: 1, trustWeighting: 'cosine' },
  { key: 'fltrust-sign', name: 'fltrust', label: 'FLTrust, sign weights (100 root digits)', bucketSize: 1, trustWeighting: 'sign' }
]
const only = values.rows?.split(',')
const strategies = allRows.filter(r => only == null || only.includes(r.key))
const fractions = [0, 0.1, 0.2]
const settings = {
  clients: Number(values.clients),
  fraction: 1,
  epochs: 1,
  batchSize: 10,
  rounds: Number(values.rounds),
  learningRate: 0.05,
  partition: 'noniid',
  seed: Number(values.seed),
  attack: values.attack
}

const store = fileURLToPath(new URL('../../../docs/byzantine.json', import.meta.url))
const settingsKey = JSON.stringify(settings)
const saved: Record<string, number> = existsSync(store) ? JSON.parse(readFileSync(store, 'utf8'))[settingsKey] ?? {} : {}
const results = new Map<string, number>(Object.entries(saved))
const runtime = await createModelRuntime()
for (const s of strategies) {
  for (const f of fractions) {
    const started = Date.now()
    const updates = Math.ceil(settings.clients / s.bucketSize)
    const r = await runMnistExperiment({
      ...settings,
      strategy: s.name,
      strategyOptions: { bucketSize: s.bucketSize, seed: settings.seed, trustWeighting: s.trustWeighting, ...(s.name === 'krum' ? { m: Math.max(1, Math.round(updates * 0.5)) } : {}) },
      byzantineFraction: f,
      runtime
    })
    results.set(`${s.key}/${f}`, r.finalAccuracy)
    const all = existsSync(store) ? JSON.parse(readFileSync(store, 'utf8')) : {}
    writeFileSync(store, JSON.stringify({ ...all, [settingsKey]: Object.fromEntries(results) }, null, 2) + '\n')
    process.stderr.write(`${s.label.padEnd(22)} ${String(f * 100).padStart(2)}% attackers: ${(r.finalAccuracy * 100).toFixed(2)}% (${((Date.now() - started) / 1000).toFixed(0)} s)\n`)
  }
}

const pct = (x: number | undefined): string => x == null ? '-' : `${(x * 100).toFixed(1)} %`
const lines = [
  `Final held-out accuracy on non-IID MNIST (McMahan's 2 shards per client), ${settings.clients} clients, all clients every round, E=${settings.epochs}, B=${settings.batchSize}, lr ${settings.learningRate}, ${settings.rounds} rounds, attack \`${settings.attack}\`, seed ${settings.seed}; produced by \`examples/robustness/byzantine-table.ts\`.`,
  '',
  '| strategy | 0 % attackers | 10 % attackers | 20 % attackers |',
  '|---|---|---|---|',
  ...allRows.map(s => `| ${s.label} | ${fractions.map(f => pct(results.get(`${s.key}/${f}`))).join(' | ')} |`)
]
const clean = results.get('fedavg/0') ?? 0
const robust = allRows.filter(s => s.name !== 'fedavg')
const best = robust.reduce((a, b) => (results.get(`${b.key}/0.2`) ?? 0) > (results.get(`${a.key}/0.2`) ?? 0) ? b : a)
const bestAt = (f: number): number => results.get(`${best.key}/${f}`) ?? 0
const points = (x: number): string => `${(x * 100).toFixed(1)} points`
const versusOwn = bestAt(0) - bestAt(0.2)
lines.push('', `Clean FedAvg: ${pct(clean)}. Best robust strategy with 20 % attackers: ${best.label}, ${pct(bestAt(0.2))}: ${points(clean - bestAt(0.2))} below clean FedAvg, ${versusOwn >= 0 ? `${points(versusOwn)} below` : `${points(-versusOwn)} above`} its own clean run. FedAvg with 20 % attackers (the control): ${pct(results.get('fedavg/0.2'))}, ${points(clean - (results.get('fedavg/0.2') ?? 0))} below clean.`)
const table = lines.join('\n') + '\n'
process.stdout.write(table)
writeFileSync(fileURLToPath(new URL('../../../docs/byzantine.md', import.meta.url)), `# Robustness to byzantine clients\n\n${table}`)
