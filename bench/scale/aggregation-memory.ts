/**
 * Phase 3, coordinator memory of FedAvg in simulate mode: one round with
 * `AGGREGATION_MEMORY.small` participants and one with `large` (every client
 * trains), each in a fresh child process (`aggregation-child.js`), run
 * `repetitions` times alternately; the peak resident set is the kernel's
 * `maxRSS` of the child. Streaming aggregation (src/federated/streaming.ts)
 * folds each update in as it arrives, so the large round should cost about
 * what the small one does.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { median, round2, round3 } from '../shared/stats.js'
import { AGGREGATION_MEMORY } from './constants.js'

export interface AggregationMemoryResult {
  /** Median peak RSS per participant count, MiB. */
  peakRssMb: Record<string, number>
  /** Every run: participants, peak RSS (MiB), wall time (ms), final accuracy. */
  runs: Array<{ clients: number, maxRssMb: number, wallMs: number, accuracy: number }>
  /** peakRssMb[large] / peakRssMb[small]. */
  ratio: number
  settings: typeof AGGREGATION_MEMORY
}

async function runChild (clients: number): Promise<{ clients: number, maxRssMb: number, wallMs: number, accuracy: number }> {
  const script = fileURLToPath(new URL('./aggregation-child.js', import.meta.url))
  const child = spawn(process.execPath, [script, String(clients)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), AGGREGATION_MEMORY.timeoutMs)
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  clearTimeout(timer)
  if (code !== 0) throw new Error(`aggregation child (${clients} clients) exited with ${String(code)}: ${stderr.slice(-2000)}`)
  const line = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}')
  return { clients, maxRssMb: round2(line.maxRssMb), wallMs: line.wallMs, accuracy: line.accuracy }
}

export async function measureAggregationMemory (progress: (line: string) => void): Promise<AggregationMemoryResult> {
  const sizes = [AGGREGATION_MEMORY.small, AGGREGATION_MEMORY.large]
  const runs: AggregationMemoryResult['runs'] = []
  for (let r = 0; r < AGGREGATION_MEMORY.repetitions; r++) {
    for (const clients of sizes) {
      const run = await runChild(clients)
      runs.push(run)
      progress(`aggregation: ${clients} participants: peak RSS ${run.maxRssMb} MiB (${Math.round(run.wallMs / 1000)} s)`)
    }
  }
  const peak = sizes.map(n => median(runs.filter(x => x.clients === n).map(x => x.maxRssMb)))
  return {
    peakRssMb: Object.fromEntries(sizes.map((n, i) => [String(n), round2(peak[i])])),
    runs,
    ratio: round3(peak[1] / peak[0]),
    settings: AGGREGATION_MEMORY
  }
}
