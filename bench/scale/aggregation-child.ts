/**
 * The process the aggregation phase measures: one FedAvg round of the MNIST
 * experiment in simulate mode with `clients` virtual clients, every one taking
 * part (fraction 1). Prints one JSON line with its peak resident set (the
 * kernel's `maxRSS`) on stdout.
 *
 * Usage: node dist/bench/scale/aggregation-child.js <clients>
 */
import { runMnistExperiment } from '../../src/experiments/index.js'
import { AGGREGATION_MEMORY } from './constants.js'

async function main (): Promise<void> {
  const clients = Number(process.argv[2])
  const started = performance.now()
  const result = await runMnistExperiment({
    mode: 'simulate',
    clients,
    fraction: 1,
    rounds: AGGREGATION_MEMORY.rounds,
    epochs: AGGREGATION_MEMORY.epochs,
    batchSize: AGGREGATION_MEMORY.batchSize,
    partition: 'iid',
    seed: 1
  })
  process.stdout.write(JSON.stringify({
    clients,
    participants: result.records.map(r => r.participants),
    accuracy: result.finalAccuracy,
    wallMs: Math.round(performance.now() - started),
    maxRssMb: process.resourceUsage().maxRSS / 1024
  }) + '\n')
}

main().catch(err => {
  process.stderr.write(`aggregation-child: ${String(err?.stack ?? err)}\n`)
  process.exit(1)
})
