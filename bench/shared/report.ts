/** The parts every benchmark report shares: the machine it ran on, and writing the JSON. */
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { activeBackend } from '../../src/model/index.js'
import type { BenchRun } from './run.js'

/** CPUs, Node version, TF.js backend and load averages of the run. */
export function machineInfo (run: BenchRun): Record<string, unknown> {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    node: process.version,
    backend: activeBackend(),
    /** 1/5/15-minute load averages at start and end: other work on the machine shows here. */
    loadAverage: run.loadAverage()
  }
}

/** Print the report as JSON on stdout and write it to `bench-results/<name>.json`. */
export async function writeReport (name: string, result: unknown, run: BenchRun, progress: (line: string) => void): Promise<void> {
  const json = JSON.stringify(result, null, 2)
  await mkdir('bench-results', { recursive: true })
  await writeFile(`bench-results/${name}.json`, json + '\n')
  process.stdout.write(json + '\n')
  progress(`done in ${Math.round(run.elapsedS())} s; written to bench-results/${name}.json`)
}
