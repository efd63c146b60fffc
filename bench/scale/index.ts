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
 * Nothing in phases 1, 3 and 4 depends on time: the simulations are
 * deterministic (on `SIMULATION.workers` worker threads) and phase 3 reads
 * the kernel's peak RSS of its child. They run side by side; phase 2, which
 * measures CPU time, runs after them, alone. The JSON's `phaseS` gives each
 * phase's wall time (overlapping for 1, 3 and 4).
 *
 * `BENCH_PHASES=simulation,idle` runs only the named phases;
 * `BENCH_DESIGN_STUDY=1` adds the simulation's no-probe design study.
 */
import { writeReport } from '../shared/report.js'
import { cpus } from 'node:os'
import { phaseTimer, startBenchRun } from '../shared/run.js'
import { goals } from './goals.js'
import { measureIdle } from './idle.js'
import { measureAggregationMemory } from './aggregation-memory.js'
import { measureSimulation } from './simulation.js'
import { measureSkew } from './skew.js'
import type { SimulationResult } from './simulation.js'
import type { SkewResult } from './skew.js'

function progress (line: string): void {
  process.stderr.write(`[bench:scale ${new Date().toISOString().slice(11, 19)}] ${line}\n`)
}

async function main (): Promise<void> {
  const run = startBenchRun(async () => {})
  const only = process.env.BENCH_PHASES?.split(',')
  const want = (phase: string): boolean => only == null || only.includes(phase)
  const timer = phaseTimer()
  const designStudy = process.env.BENCH_DESIGN_STUDY === '1'
  // Simulations (deterministic, on worker threads) and the aggregation's peak RSS do not depend on time: side by side.
  const simulations = async (): Promise<[SimulationResult | undefined, SkewResult | undefined]> => [
    want('simulation') ? await timer.time('simulation', async () => await measureSimulation(progress, designStudy)) : undefined,
    want('skew') ? await timer.time('skew', async () => await measureSkew(progress)) : undefined
  ]
  const [[simulation, skew], aggregation] = await Promise.all([
    simulations(),
    want('aggregation') ? timer.time('aggregation', async () => await measureAggregationMemory(progress)) : undefined
  ])
  // CPU time of idle processes: alone, after everything this benchmark runs.
  const idle = want('idle') ? await timer.time('idle', async () => await measureIdle(progress)) : undefined
  const result = {
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, loadAverage: run.loadAverage() },
    simulation,
    idle,
    aggregation,
    skew,
    goals: goals({ simulation, idle, aggregation, skew }),
    phaseS: timer.phaseS,
    durationS: Math.round(run.elapsedS())
  }
  await writeReport('scale', result, run, progress)
}

main().catch(err => {
  process.stderr.write(`bench:scale failed: ${String(err?.stack ?? err)}\n`)
  process.exit(1)
})
