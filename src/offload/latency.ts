/**
 * Latency bookkeeping of the offload client.
 *
 * - {@link observeLatency} / {@link currentLatency}: a peak-EWMA estimate per
 *   candidate, as in Finagle's and linkerd's load balancers. A sample higher
 *   than the estimate replaces it at once (a peer that turns slow is avoided
 *   immediately); a lower sample pulls it down with weight `1 - exp(-dt / tau)`
 *   (a peer that recovers earns its way back over about `tau`). When no sample
 *   arrives for a while the estimate relaxes toward the prior, so a peer that
 *   was slow once is eventually tried again and stale good news fades too.
 * - {@link LatencyWindow}: the node's own request latencies over a sliding
 *   window (one minute by default) for p50/p95/p99, in bounded memory: a ring of
 *   sub-windows, each a log-bucketed histogram with 5 % relative precision.
 */
import { DEFAULT_EWMA_MIN_WEIGHT, DEFAULT_HISTOGRAM_PRECISION, DEFAULT_LATENCY_SLOTS, DEFAULT_LATENCY_WINDOW_MS } from './scheduler-constants.js'

/** Peak-EWMA state of one candidate. */
export interface PeakEwma {
  /** Current estimate, ms. */
  readonly estimateMs: number
  /** Clock time of the last sample, ms. */
  readonly updatedAt: number
}

/**
 * Fold one latency sample into a peak-EWMA estimate (pure). A lower sample
 * weighs at least `minWeight`: in a burst, samples arrive milliseconds apart,
 * and by time alone one slow first answer (a peer compiling its kernels) would
 * keep the peer looking slow for about `tau` while it answers fast.
 */
export function observeLatency (state: PeakEwma | undefined, sampleMs: number, now: number, tauMs: number, minWeight = DEFAULT_EWMA_MIN_WEIGHT): PeakEwma {
  const sample = Math.max(0, sampleMs)
  if (state == null || sample >= state.estimateMs) return { estimateMs: sample, updatedAt: now }
  const keep = Math.min(1 - minWeight, Math.exp(-Math.max(0, now - state.updatedAt) / tauMs))
  return { estimateMs: state.estimateMs * keep + sample * (1 - keep), updatedAt: now }
}

/**
 * The estimate as of `now`: the last estimate relaxed toward `priorMs` with the
 * time elapsed since the last sample; `priorMs` itself when there is no sample.
 */
export function currentLatency (state: PeakEwma | undefined, now: number, tauMs: number, priorMs: number): number {
  if (state == null) return priorMs
  const keep = Math.exp(-Math.max(0, now - state.updatedAt) / tauMs)
  return state.estimateMs * keep + priorMs * (1 - keep)
}

export interface LatencyWindowInit {
  /** Length of the window, ms. @default 60000 */
  windowMs?: number
  /** Sub-windows in the ring; the window covers between `(slots-1)/slots` and all of `windowMs`. @default 6 */
  slots?: number
  /** Relative width of a histogram bucket. @default 0.05 */
  precision?: number
  /** Smallest latency told apart, ms; smaller samples share the first bucket. @default 0.1 */
  minMs?: number
  /** Largest latency told apart, ms; larger samples share the last bucket. @default 600000 */
  maxMs?: number
}

interface Slot {
  id: number
  counts: Uint32Array
  total: number
  min: number
  max: number
}

/** Sliding-window latency percentiles in bounded memory (`slots * buckets` counters). */
export class LatencyWindow {
  private readonly slotMs: number
  private readonly slots: Slot[]
  private readonly logBase: number
  private readonly minMs: number
  private readonly buckets: number

  constructor (init: LatencyWindowInit = {}) {
    const windowMs = init.windowMs ?? DEFAULT_LATENCY_WINDOW_MS
    const slots = Math.max(1, init.slots ?? DEFAULT_LATENCY_SLOTS)
    this.slotMs = windowMs / slots
    this.minMs = init.minMs ?? 0.1
    this.logBase = Math.log1p(init.precision ?? DEFAULT_HISTOGRAM_PRECISION)
    this.buckets = Math.ceil(Math.log((init.maxMs ?? 600_000) / this.minMs) / this.logBase) + 1
    this.slots = Array.from({ length: slots }, () => ({ id: -Infinity, counts: new Uint32Array(this.buckets), total: 0, min: Infinity, max: 0 }))
  }

  /** Record one latency sample taken at clock time `now`. Non-finite samples are ignored. */
  record (ms: number, now: number): void {
    if (!Number.isFinite(ms)) return
    const value = Math.max(0, ms)
    const slot = this.slotAt(now)
    slot.counts[this.bucketOf(value)]++
    slot.total++
    slot.min = Math.min(slot.min, value)
    slot.max = Math.max(slot.max, value)
  }

  /** Number of samples in the window as of `now`. */
  count (now: number): number {
    return this.live(now).reduce((sum, slot) => sum + slot.total, 0)
  }

  /**
   * The `q` quantile (0..1) of the window as of `now`, ms, or `undefined` when
   * the window is empty. Never below the true value by more than the precision.
   */
  percentile (q: number, now: number): number | undefined {
    const live = this.live(now)
    const total = live.reduce((sum, slot) => sum + slot.total, 0)
    if (total === 0) return undefined
    const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * total))
    const min = Math.min(...live.map(s => s.min))
    const max = Math.max(...live.map(s => s.max))
    let seen = 0
    for (let b = 0; b < this.buckets; b++) {
      for (const slot of live) seen += slot.counts[b]
      if (seen >= rank) return Math.min(max, Math.max(min, this.upperBound(b)))
    }
    return max
  }

  private bucketOf (ms: number): number {
    if (ms <= this.minMs) return 0
    return Math.min(this.buckets - 1, Math.ceil(Math.log(ms / this.minMs) / this.logBase))
  }

  private upperBound (bucket: number): number {
    return this.minMs * Math.exp(bucket * this.logBase)
  }

  private slotAt (now: number): Slot {
    const id = Math.floor(now / this.slotMs)
    const slot = this.slots[((id % this.slots.length) + this.slots.length) % this.slots.length]
    if (slot.id !== id) {
      slot.id = id
      slot.counts.fill(0)
      slot.total = 0
      slot.min = Infinity
      slot.max = 0
    }
    return slot
  }

  private live (now: number): Slot[] {
    const current = Math.floor(now / this.slotMs)
    return this.slots.filter(s => s.id > current - this.slots.length && s.id <= current && s.total > 0)
  }
}
