/**
 * `npm run bench`: every benchmark, one after the other, each in its own
 * process (so one's peers and memory do not disturb the next). Runs
 * `dist/bench/offload/index.js`, then `dist/bench/fedavg/index.js` and
 * `dist/bench/scale/index.js` when they have been built. Each benchmark prints its JSON on stdout and writes its own file
 * under `bench-results/`; the exit code is the first failure's, else 0.
 *
 * At the end it prints (and writes to `bench-results/bench.json`) the wall
 * time of the whole run and of each benchmark, each benchmark's per-phase
 * times (its report's `phaseS`) and the load average at start and end: issue
 * #12 wants the whole run under 10 minutes on the 2-core machine.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { round2 } from './shared/stats.js'

const BENCHES = ['offload', 'fedavg', 'scale']
/** Issue #12: `npm run bench` finishes in under this many seconds on this machine. */
const TARGET_TOTAL_S = 600

async function run (script: string): Promise<number> {
  const child = spawn(process.execPath, [script], { stdio: 'inherit' })
  return await new Promise(resolve => child.once('exit', code => { resolve(code ?? 1) }))
}

/** The `phaseS` of a benchmark's report, if it wrote one. */
async function phasesOf (name: string): Promise<Record<string, number> | undefined> {
  try {
    return JSON.parse(await readFile(`bench-results/${name}.json`, 'utf8')).phaseS
  } catch {
    return undefined
  }
}

const startedAt = performance.now()
const loadStart = loadavg().map(round2)
const benches: Record<string, { elapsedS: number, exitCode: number, phaseS?: Record<string, number> }> = {}
let exitCode = 0
for (const name of BENCHES) {
  const script = fileURLToPath(new URL(`./${name}/index.js`, import.meta.url))
  if (!existsSync(script)) {
    process.stderr.write(`[bench] ${name}: not built (${script} missing), skipped\n`)
    continue
  }
  process.stderr.write(`[bench] ${name}\n`)
  const benchStartedAt = performance.now()
  const code = await run(script)
  benches[name] = { elapsedS: round2((performance.now() - benchStartedAt) / 1000), exitCode: code, phaseS: await phasesOf(name) }
  if (code !== 0 && exitCode === 0) exitCode = code
}
const totalS = round2((performance.now() - startedAt) / 1000)
const summary = {
  totalS,
  benches,
  goals: [{ name: `npm run bench finishes in under ${TARGET_TOTAL_S} s`, value: totalS, target: TARGET_TOTAL_S, met: totalS < TARGET_TOTAL_S }],
  loadAverage: { start: loadStart, end: loadavg().map(round2) }
}
await mkdir('bench-results', { recursive: true })
await writeFile('bench-results/bench.json', JSON.stringify(summary, null, 2) + '\n')
process.stdout.write(JSON.stringify(summary, null, 2) + '\n')
process.stderr.write(`[bench] done in ${Math.round(totalS)} s; written to bench-results/bench.json\n`)
process.exit(exitCode)
