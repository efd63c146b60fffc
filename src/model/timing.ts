/**
 * Measured inference time of one model: the durations of its most recent
 * `predict` calls, summarised as medians for status and the dashboard.
 */
import { TIMING_WINDOW } from './constants.js'
import type { InferenceTiming } from './types.js'

/** A sliding window over the last `size` calls (ms and rows of each). */
export class TimingWindow {
  private readonly samples: Array<{ ms: number, rows: number }> = []
  private calls = 0
  /** The summary as of `calls`, reused until the next record (the engine reads it per request). */
  private cached?: { calls: number, summary: InferenceTiming }

  constructor (private readonly size = TIMING_WINDOW) {}

  record (ms: number, rows: number): void {
    this.calls++
    this.samples.push({ ms, rows: Math.max(1, rows) })
    if (this.samples.length > this.size) this.samples.shift()
  }

  /** Medians over the window; `undefined` before the first call. */
  summary (): InferenceTiming | undefined {
    if (this.samples.length === 0) return undefined
    if (this.cached?.calls !== this.calls) {
      const summary = {
        calls: this.calls,
        p50Ms: lowerMedian(this.samples.map((s) => s.ms)),
        p50MsPerRow: lowerMedian(this.samples.map((s) => s.ms / s.rows))
      }
      this.cached = { calls: this.calls, summary }
    }
    return { ...this.cached.summary }
  }
}

/** The lower median (nearest rank) of a non-empty list: always one of the measured values. */
function lowerMedian (values: number[]): number {
  return [...values].sort((a, b) => a - b)[(values.length - 1) >> 1]
}
