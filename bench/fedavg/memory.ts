/**
 * Phase 4, peak resident memory of the MNIST experiment in simulate mode with
 * `MEMORY.clients` virtual clients, run as a child process: the CLI's
 * `edge-mesh experiment mnist --mode simulate ...` when this build's CLI has
 * that command (and its help lists the flags used), else `simulate.js`, which
 * calls `runMnistExperiment` with the same settings.
 *
 * The peak is GNU time's "Maximum resident set size" (`/usr/bin/time -v`,
 * from the kernel at exit) when available; the process's VmHWM (the kernel's
 * own high-water mark) and VmRSS are also polled from /proc every
 * `MEMORY.sampleMs`; the larger of the two peaks is reported.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { BIN_PATH } from '../../src/cli/cluster.js'
import { MEMORY, TARGETS } from './constants.js'
import { memoryOf } from './processes.js'
import { delay, round2 } from './stats.js'
import type { Processes } from './processes.js'

export interface MemoryResult {
  /** Peak resident set of the experiment process, MiB: the larger of GNU time's figure and the polled VmHWM. */
  peakRssMb: number
  /** Whether GNU time's figure was available (else only the polled VmHWM). */
  source: 'gnu-time' | 'proc-vmhwm'
  /** Largest VmHWM seen while polling, MiB (a lower bound of the peak). */
  polledHwmMb: number
  /** VmRSS about every second, MiB. */
  trajectoryMb: number[]
  /** What ran: `cli` (`edge-mesh experiment`) or `runMnistExperiment` (`simulate.js`). */
  command: 'cli' | 'runMnistExperiment'
  argv: string[]
  durationS: number
  /** What the experiment printed as its result (simulate.js only). */
  experiment?: unknown
  settings: typeof MEMORY
}

const GNU_TIME = '/usr/bin/time'

async function helpOf (args: string[]): Promise<string | undefined> {
  const child = spawn(process.execPath, [BIN_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let text = ''
  child.stdout.on('data', (d: Buffer) => { text += d.toString() })
  child.stderr.on('data', (d: Buffer) => { text += d.toString() })
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  return code === 0 ? text : undefined
}

/** The CLI invocation when `experiment` exists and documents the flags; undefined otherwise. */
async function cliArgs (outDir: string): Promise<string[] | undefined> {
  const help = await helpOf(['experiment', '--help'])
  if (help === undefined) return undefined
  const has = (flag: string): boolean => new RegExp(`${flag}\\b`).test(help)
  if (!['--mode', '--clients', '--fraction', '--rounds'].every(has)) return undefined
  const args = ['experiment', 'mnist', '--mode', 'simulate', '--clients', String(MEMORY.clients), '--fraction', String(MEMORY.fraction), '--rounds', String(MEMORY.rounds)]
  const optional: Array<[string[], string]> = [[['--epochs'], String(MEMORY.epochs)], [['--batch-size', '--batch'], String(MEMORY.batchSize)], [['--partition'], MEMORY.partition], [['--seed'], '1'], [['--out-dir', '--out'], outDir]]
  for (const [names, value] of optional) {
    const name = names.find(has)
    if (name !== undefined) args.push(name, value)
  }
  return [BIN_PATH, ...args]
}

/** The node process under `/usr/bin/time`: its first child. */
async function targetPid (pid: number, wrapped: boolean): Promise<number | undefined> {
  if (!wrapped) return pid
  try {
    const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).trim().split(/\s+/).filter(Boolean)
    return children.length > 0 ? Number(children[0]) : undefined
  } catch {
    return undefined
  }
}

export async function measureMemory (processes: Processes, progress: (line: string) => void): Promise<MemoryResult> {
  const outDir = await processes.tempDir('simulate')
  const cli = await cliArgs(outDir)
  const script = fileURLToPath(new URL('./simulate.js', import.meta.url))
  const nodeArgs = cli ?? [script]
  const wrapped = existsSync(GNU_TIME)
  const argv = wrapped ? [GNU_TIME, '-v', process.execPath, ...nodeArgs] : [process.execPath, ...nodeArgs]
  progress(`memory: ${cli !== undefined ? 'edge-mesh experiment' : 'runMnistExperiment (no experiment command in the CLI)'}, ${MEMORY.clients} clients, ${MEMORY.rounds} rounds`)
  const started = performance.now()
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  processes.adopt(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<number | null>(resolve => child.once('exit', resolve))
  let running = true
  void exited.then(() => { running = false })
  let polledHwmMb = 0
  const trajectoryMb: number[] = []
  let lastSample = 0
  while (running && performance.now() - started < MEMORY.timeoutMs) {
    const pid = child.pid === undefined ? undefined : await targetPid(child.pid, wrapped)
    if (pid !== undefined) {
      try {
        const m = await memoryOf(pid)
        polledHwmMb = Math.max(polledHwmMb, m.hwmMb)
        if (performance.now() - lastSample >= 1000) { trajectoryMb.push(round2(m.rssMb)); lastSample = performance.now() }
      } catch {}
    }
    await delay(MEMORY.sampleMs)
  }
  if (running) child.kill('SIGTERM')
  const code = await exited
  if (code !== 0) throw new Error(`experiment exited with ${String(code)}: ${stderr.slice(-2000)}`)
  const gnu = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)
  const peakRssMb = round2(Math.max(gnu !== null ? Number(gnu[1]) / 1024 : 0, polledHwmMb))
  progress(`memory: peak RSS ${peakRssMb} MiB (target < ${TARGETS.peakRssMb})`)
  let experiment: unknown
  if (cli === undefined) {
    try { experiment = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') } catch {}
  }
  return {
    peakRssMb,
    source: gnu !== null ? 'gnu-time' : 'proc-vmhwm',
    polledHwmMb: round2(polledHwmMb),
    trajectoryMb,
    command: cli !== undefined ? 'cli' : 'runMnistExperiment',
    argv: nodeArgs.map(a => a.replace(process.cwd() + '/', '')),
    durationS: Math.round((performance.now() - started) / 1000),
    experiment,
    settings: MEMORY
  }
}
