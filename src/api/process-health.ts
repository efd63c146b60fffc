/**
 * Health of the node's process: resident memory and event-loop delay
 * (the time a ready callback waits for the loop), sampled continuously with
 * `perf_hooks.monitorEventLoopDelay` and reset every window so percentiles
 * describe the recent past.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { IntervalHistogram } from 'node:perf_hooks'

/** Percentiles are over this window, ms. */
export const LAG_WINDOW_MS = 10_000

export interface ProcessHealth {
  rssBytes: number
  heapUsedBytes: number
  /** Memory of ArrayBuffers and other objects outside the V8 heap (WebAssembly memory included). */
  externalBytes: number
  eventLoopLagP50Ms: number
  eventLoopLagP99Ms: number
  eventLoopLagMaxMs: number
}

export class ProcessHealthMonitor {
  private histogram?: IntervalHistogram
  private previous?: { p50: number, p99: number, max: number }
  private timer?: ReturnType<typeof setInterval>

  start (): void {
    if (this.histogram != null) return
    this.histogram = monitorEventLoopDelay({ resolution: 10 })
    this.histogram.enable()
    this.timer = setInterval(() => {
      this.previous = this.read()
      this.histogram?.reset()
    }, LAG_WINDOW_MS)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.histogram?.disable()
    this.histogram = undefined
  }

  private read (): { p50: number, p99: number, max: number } {
    const h = this.histogram
    if (h == null || h.count === 0) return { p50: 0, p99: 0, max: 0 }
    return { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 }
  }

  /** Current figures: the larger of this window so far and the last full window. */
  sample (): ProcessHealth {
    const now = this.read()
    const last = this.previous ?? now
    const mem = process.memoryUsage()
    return {
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      externalBytes: mem.external,
      eventLoopLagP50Ms: Math.max(now.p50, last.p50),
      eventLoopLagP99Ms: Math.max(now.p99, last.p99),
      eventLoopLagMaxMs: Math.max(now.max, last.max)
    }
  }
}
