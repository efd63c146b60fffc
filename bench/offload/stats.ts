import { mulberry32 } from '../../src/model/random.js'
/**
 * Small measurement helpers of the offload benchmark: percentiles, a seeded
 * random source, exponential inter-arrival times, a closed loop and an open
 * loop. Pure or clock-only; no network.
 */

import { median, percentile, round2 } from '../shared/stats.js'
export { median, percentile, round2 }

/** `{ p50, p99, n }` of a sample, ms. */
export function summary (samples: readonly number[]): { p50: number, p99: number, n: number } {
  return { p50: round2(percentile(samples, 0.5)), p99: round2(percentile(samples, 0.99)), n: samples.length }
}

/** A deterministic random sequence in [0, 1) (the project's mulberry32), so load patterns repeat across runs. */
export const seeded = mulberry32

/** Exponential inter-arrival time of a Poisson process of `ratePerSec`, ms. */
export function exponentialMs (ratePerSec: number, random: () => number): number {
  return -Math.log(1 - random()) / ratePerSec * 1000
}

/**
 * Closed loop: `concurrency` workers each run `task` back to back until
 * `count` tasks have started. Resolves with the wall time, ms.
 */
export async function closedLoop (count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0
  const startedAt = performance.now()
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return performance.now() - startedAt
}

/**
 * Open loop: start `task` at Poisson arrivals of `ratePerSec` for `durationMs`,
 * never waiting for earlier tasks (so a slow system builds a queue, as real
 * clients would). Arrivals are scheduled against the clock, so timer lateness
 * does not lower the offered rate. Resolves when every task settled.
 */
export async function openLoop (ratePerSec: number, durationMs: number, random: () => number, task: () => Promise<void>): Promise<number> {
  const startedAt = performance.now()
  const running: Array<Promise<void>> = []
  let due = startedAt
  let arrivals = 0
  while (true) {
    due += exponentialMs(ratePerSec, random)
    if (due - startedAt >= durationMs) break
    const wait = due - performance.now()
    if (wait > 1) await new Promise(resolve => setTimeout(resolve, wait))
    running.push(task())
    arrivals++
  }
  await Promise.all(running)
  return arrivals
}
