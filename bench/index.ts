/**
 * `npm run bench`: every benchmark, one after the other, each in its own
 * process (so one's peers and memory do not disturb the next). Runs
 * `dist/bench/offload/index.js`, then `dist/bench/fedavg/index.js` and
 * `dist/bench/scale/index.js` when they have been built. Each benchmark prints its JSON on stdout and writes its own file
 * under `bench-results/`; the exit code is the first failure's, else 0.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const BENCHES = ['offload', 'fedavg', 'scale']

async function run (script: string): Promise<number> {
  const child = spawn(process.execPath, [script], { stdio: 'inherit' })
  return await new Promise(resolve => child.once('exit', code => { resolve(code ?? 1) }))
}

let exitCode = 0
for (const name of BENCHES) {
  const script = fileURLToPath(new URL(`./${name}/index.js`, import.meta.url))
  if (!existsSync(script)) {
    process.stderr.write(`[bench] ${name}: not built (${script} missing), skipped\n`)
    continue
  }
  process.stderr.write(`[bench] ${name}\n`)
  const code = await run(script)
  if (code !== 0 && exitCode === 0) exitCode = code
}
process.exit(exitCode)
