/**
 * `npm run bench:scale`: the scale benchmark (issue #12). Prints the result as
 * JSON on stdout (progress on stderr) and writes `bench-results/scale.json`.
 *
 * Phases (settings in `constants.ts`):
 * 1. simulation: meshes of 30, 100 and 300 nodes in a discrete-event
 *    simulation driven by the real gossip cadence, load table and scheduler;
 *    messages received per node per second, and the scheduler's p99 under
 *    skewed load against full knowledge of every peer's load;
 * 2. idle: CPU per edge of real node processes, 3 edges vs 10 edges, side by side;
 * 3. aggregation: peak RSS of a FedAvg round in simulate mode, 10 vs 500 participants;
 * 4. skew: the scheduling benchmark's scenario in the simulation, every policy, three seeds.
 *
 * `BENCH_PHASES=simulation,idle` runs only the named phases.
 */
import { writeReport } from '../shared/report.js'
import { cpus } from 'node:os'
import { startBenchRun } from '../shared/run.js'
import { goals } from './goals.js'
import { measureIdle } from './idle.js'
import { measureAggregationMemory } from './aggregation-memory.js'
import { measureSimulation } from './simulation.js'
import { measureSkew } from './skew.js'

function progress (line: string): void {
  process.stderr.write(`[bench:scale ${new Date().toISOString().slice(11, 19)}] ${line}\n`)
}

async function main (): Promise<void> {
  const run = startBenchRun(async () => {})
  const only = process.env.BENCH_PHASES?.split(',')
  const want = (phase: string): boolean => only == null || only.includes(phase)
  const simulation = want('simulation') ? measureSimulation(progress) : undefined
  const idle = want('idle') ? await measureIdle(progress) : undefined
  const aggregation = want('aggregation') ? await measureAggregationMemory(progress) : undefined
  const skew = want('skew') ? measureSkew(progress) : undefined
  const result = {
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, loadAverage: run.loadAverage() },
    simulation,
    idle,
    aggregation,
    skew,
    goals: goals({ simulation, idle, aggregation, skew }),
    durationS: Math.round(run.elapsedS())
  }
  await writeReport('scale', result, run, progress)
}

main().catch(err => {
  process.stderr.write(`bench:scale failed: ${String(err?.stack ?? err)}\n`)
  process.exit(1)
})
