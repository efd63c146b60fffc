/**
 * The process the memory phase measures when the CLI has no `experiment`
 * command: McMahan et al.'s MNIST experiment in simulate mode through
 * `runMnistExperiment` (virtual clients on one model runtime), with the
 * settings of `MEMORY`. Prints one JSON line with the rounds, the backend and
 * its own peak resident set (`maxRSS` of `process.resourceUsage()`) on stdout.
 *
 * Usage: node dist/bench/fedavg/simulate.js
 */
import { runMnistExperiment } from '../../src/experiments/mnist.js'
import { activeBackend } from '../../src/model/index.js'
import { MEMORY } from './constants.js'

async function main (): Promise<void> {
  const result = await runMnistExperiment({
    mode: 'simulate',
    clients: MEMORY.clients,
    fraction: MEMORY.fraction,
    rounds: MEMORY.rounds,
    epochs: MEMORY.epochs,
    batchSize: MEMORY.batchSize,
    partition: MEMORY.partition,
    seed: 1
  })
  process.stdout.write(JSON.stringify({
    event: 'done',
    backend: activeBackend(),
    rounds: result.records.map(r => ({ round: r.round, participants: r.participants, accuracy: r.accuracy, wallMs: r.wallMs })),
    finalAccuracy: result.finalAccuracy,
    wallMs: result.wallMs,
    maxRssMb: process.resourceUsage().maxRSS / 1024
  }) + '\n')
}

main().catch(err => {
  process.stderr.write(`simulate: ${String(err?.stack ?? err)}\n`)
  process.exit(1)
})
