/**
 * The frame of a benchmark run: child processes stopped on Ctrl-C or SIGTERM,
 * wall time and the machine's load average at start and end (these machines
 * are shared, so every report says how busy they were).
 */
import { loadavg } from 'node:os'
import { round2 } from './stats.js'

/** One goal of a benchmark, checked against a figure of the same run. */
export interface Goal {
  name: string
  value: number
  target: number
  met: boolean
}

export interface BenchRun {
  /** Seconds since the run started. */
  elapsedS(): number
  /** 1-, 5- and 15-minute load averages at start and now. */
  loadAverage(): { start: number[], end: number[] }
}

/** Start a run; `stopAll` is called (then exit 130) on SIGINT or SIGTERM. */
export function startBenchRun (stopAll: () => Promise<void>): BenchRun {
  const stopOnSignal = (): void => { void stopAll().finally(() => process.exit(130)) }
  process.once('SIGINT', stopOnSignal)
  process.once('SIGTERM', stopOnSignal)
  const startedAt = performance.now()
  const start = loadavg().map(round2)
  return {
    elapsedS: () => round2((performance.now() - startedAt) / 1000),
    loadAverage: () => ({ start, end: loadavg().map(round2) })
  }
}

/** Wall time of each phase of a benchmark, s, in the order they started (the report's `phaseS`). */
export interface PhaseTimer {
  readonly phaseS: Record<string, number>
  /** Run `fn` as phase `name` and record its wall time (also when it throws). */
  time: <T>(name: string, fn: () => Promise<T> | T) => Promise<T>
}

export function phaseTimer (): PhaseTimer {
  const phaseS: Record<string, number> = {}
  return {
    phaseS,
    async time (name, fn) {
      const startedAt = performance.now()
      try {
        return await fn()
      } finally {
        phaseS[name] = round2((performance.now() - startedAt) / 1000)
      }
    }
  }
}
