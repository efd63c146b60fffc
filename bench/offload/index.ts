/**
 * `npm run bench:offload`: the inference offload benchmark. Every phase runs
 * its peers as separate processes and drives them from an edge-mesh node in
 * this process (see `driver.ts`), so times exclude HTTP. Prints the result as
 * JSON on stdout (progress on stderr) and writes it to
 * `bench-results/offload.json`.
 *
 * Phases (settings in `constants.ts`):
 * 1. latency: local vs remote vs a raw libp2p echo, interleaved;
 * 2. scheduling under skew: random, round robin and the edge-mesh scheduler
 *    under the same Poisson arrivals at 70 % of the measured capacity;
 * 3. throughput of one saturated peer, micro-batching off and on;
 * 4. memory of a serving process after a warm-up and after 20,000 requests;
 * 5. pipeline: a serving node's throughput over 1.1.0 (and 1.0.0) against
 *    direct `predict` of the same model, side by side;
 * 6. codec: CPU cost of an image frame's encode + decode, 1.0.0 vs 1.1.0.
 *
 * `BENCH_PHASES=latency,scheduling` runs only the named phases (for
 * development; goals of phases left out are not reported).
 */
import { goals } from './goals.js'
import { measureLatency } from './latency.js'
import { measureMemory } from './memory.js'
import { measurePipeline } from './pipeline.js'
import { measureCodecCost } from './codec-cost.js'
import { measureScheduling } from './scheduling.js'
import { measureThroughput } from './throughput.js'
import { Processes } from './processes.js'
import { machineInfo, writeReport } from '../shared/report.js'
import { phaseTimer, startBenchRun } from '../shared/run.js'

function progress (line: string): void {
  process.stderr.write(`[bench:offload ${new Date().toISOString().slice(11, 19)}] ${line}\n`)
}

/** A phase whose serving processes did not survive it: its numbers mean nothing. */
class PeerLostError extends Error {
  override readonly name = 'PeerLostError'
}

/**
 * Run one phase; if a serving process it used exited under it (something
 * outside the benchmark stopped it), its numbers are discarded and the phase
 * runs once more. A second loss fails the benchmark.
 */
async function phase<T> (processes: Processes, name: string, run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    processes.unexpectedExits.length = 0
    let result: T
    try {
      result = await run()
    } catch (err) {
      if (processes.unexpectedExits.length === 0) throw err
      result = undefined as T
    }
    if (processes.unexpectedExits.length === 0) return result
    const lost = processes.unexpectedExits.join('; ')
    if (attempt === 2) throw new PeerLostError(`${name}: serving processes exited during the phase twice: ${lost}`)
    progress(`${name}: serving processes exited during the phase (${lost}); results discarded, running it again`)
  }
}

async function main (): Promise<void> {
  const processes = new Processes()
  const run = startBenchRun(async () => { await processes.stopAll() })
  try {
    const only = process.env.BENCH_PHASES?.split(',')
    const want = (phase: string): boolean => only == null || only.includes(phase)
    const timer = phaseTimer()
    const timed = async <T>(name: string, run: () => Promise<T>): Promise<T> => await timer.time(name, async () => await phase(processes, name, run))
    const latency = want('latency') ? await timed('latency', async () => await measureLatency(processes, progress)) : undefined
    const scheduling = want('scheduling') ? await timed('scheduling', async () => await measureScheduling(processes, progress)) : undefined
    const throughput = want('throughput') ? await timed('throughput', async () => await measureThroughput(processes, progress)) : undefined
    const memory = want('memory') ? await timed('memory', async () => await measureMemory(processes, progress)) : undefined
    const codec = want('codec') ? await timer.time('codec', () => measureCodecCost(progress)) : undefined
    const pipeline = want('pipeline') ? await timed('pipeline', async () => await measurePipeline(processes, progress)) : undefined
    const result = {
      machine: machineInfo(run),
      latency,
      scheduling,
      throughput,
      memory,
      pipeline,
      codec,
      goals: goals({ latency, scheduling, throughput, memory, pipeline }),
      phaseS: timer.phaseS,
      durationS: Math.round(run.elapsedS())
    }
    await writeReport('offload', result, run, progress)
  } finally {
    await processes.stopAll()
  }
}

main().catch(err => {
  process.stderr.write(`bench:offload failed: ${String(err?.stack ?? err)}\n`)
  process.exit(1)
})
