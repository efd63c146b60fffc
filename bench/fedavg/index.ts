/**
 * `npm run bench:fedavg`: the federated averaging benchmark. Prints the
 * result as JSON on stdout (progress on stderr) and writes it to
 * `bench-results/fedavg.json`.
 *
 * Phases (settings in `constants.ts`; `BENCH_PHASES=aggregation,transfer`
 * runs a subset):
 * 1. aggregation: the FedAvg kernel vs a plain Float32Array weighted sum,
 *    10 updates of a 1M-parameter record, in this process;
 * 2. transfer: a `/edge-mesh/fedavg/1.0.0` PULL of the 1M-parameter record vs
 *    a raw libp2p stream of the same bytes, between this process and another;
 * 3. rounds: overhead of real rounds, a seed coordinator and 4 participant
 *    node processes driven through the control API;
 * 4. memory: peak RSS of the MNIST experiment in simulate mode, 100 clients.
 * A phase that fails is reported with its error; the others still run.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { measureAggregation } from './aggregation.js'
import { goals } from './goals.js'
import { measureMemory } from './memory.js'
import { Processes } from './processes.js'
import { phaseTimer, startBenchRun } from '../shared/run.js'
import { measureRounds } from './rounds.js'
import { round2 } from './stats.js'
import { measureTransfer } from './transfer.js'

function progress (line: string): void {
  process.stderr.write(`[bench:fedavg ${new Date().toISOString().slice(11, 19)}] ${line}\n`)
}

const errors: Record<string, string> = {}
const timer = phaseTimer()

/** Run one phase if selected; a failure is recorded, reported and does not stop the others. */
async function phase<T> (name: string, run: () => Promise<T>, processes: Processes): Promise<T | undefined> {
  const only = process.env.BENCH_PHASES?.split(',')
  if (only != null && !only.includes(name)) return undefined
  try {
    return await timer.time(name, run)
  } catch (err: any) {
    errors[name] = `${String(err?.name ?? 'Error')}: ${String(err?.message ?? err)}`
    progress(`${name} failed: ${String(err?.stack ?? err)}`)
    return undefined
  } finally {
    await processes.stopAll()
  }
}

async function main (): Promise<void> {
  const processes = new Processes()
  const run = startBenchRun(async () => { await processes.stopAll() })
  const aggregation = await phase('aggregation', async () => await measureAggregation(progress), processes)
  const transfer = await phase('transfer', async () => await measureTransfer(processes, progress), processes)
  const roundOverhead = await phase('rounds', async () => await measureRounds(processes, progress), processes)
  const memory = await phase('memory', async () => await measureMemory(processes, progress), processes)
  const result = {
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGb: round2(totalmem() / 2 ** 30),
      node: process.version,
      /** 1/5/15-minute load averages at start and end: other work on the machine shows here. */
      loadAverage: run.loadAverage()
    },
    aggregation,
    transfer,
    roundOverhead,
    memory,
    goals: goals({ aggregation, transfer, roundOverhead, memory }),
    errors: Object.keys(errors).length > 0 ? errors : undefined,
    phaseS: timer.phaseS,
    durationS: Math.round(run.elapsedS())
  }
  const json = JSON.stringify(result, null, 2)
  await mkdir('bench-results', { recursive: true })
  await writeFile('bench-results/fedavg.json', json + '\n')
  process.stdout.write(json + '\n')
  progress(`done in ${result.durationS} s; written to bench-results/fedavg.json`)
  process.exitCode = Object.keys(errors).length > 0 ? 1 : 0
}

main().catch(err => {
  process.stderr.write(`bench:fedavg failed: ${String(err?.stack ?? err)}\n`)
  process.exit(1)
})
