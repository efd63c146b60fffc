/**
 * Phase 1, aggregation throughput: the FedAvg strategy's `aggregate` (the
 * core's `combineLayers` over `weightedAverage`, exactly what a round runs)
 * on `AGGREGATION.updates` updates of the 1M-parameter model, next to a plain
 * weighted-sum loop over the same arrays written here as the baseline.
 * Throughput counts the update bytes consumed: updates x 4 MB per call.
 * Repetitions interleave the two, after a warm-up of each; medians reported.
 *
 * Measured twice, because V8 runs typed-array loops differently once any
 * ArrayBuffer in the process has been detached (its "array buffer detaching"
 * protector is then invalidated for good, and optimised loops check every
 * access). In an edge-mesh node this has always happened: importing
 * `@chainsafe/libp2p-noise` is enough (measured), and so is any WebAssembly
 * memory growth (tfjs-backend-wasm). So the main figures come from such a
 * process: this one, after detaching a buffer explicitly so the state does
 * not depend on what was imported first. `pristine` repeats the measurement in a fresh child process
 * (`aggregation-child.js`) where nothing was detached. The goal takes the
 * lower of the two ratios.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { fedAvg } from '../../src/federated/strategies/fedavg.js'
import { createRng } from '../../src/federated/rng.js'
import { AGGREGATION, TARGETS } from './constants.js'
import { median, round2, round3 } from './stats.js'
import { MODEL_DATA_BYTES, syntheticRecord } from './weights.js'
import type { ClientUpdate } from '../../src/federated/grid.js'
import type { RoundContext } from '../../src/federated/strategy.js'
import type { WeightRecord } from '../../src/model/types.js'

const execFileAsync = promisify(execFile)

/** One measurement: kernel and plain loop in one process. */
export interface AggregationFigures {
  /** Median GB/s (1e9 bytes) of update data consumed by the FedAvg kernel. */
  kernelGBps: number
  /** The same for the plain Float32Array loop. */
  plainGBps: number
  /** kernelGBps / plainGBps. */
  ratio: number
  kernelMedianMs: number
  plainMedianMs: number
  /** Largest |kernel - plain| over all values (float64 vs float32 accumulation). */
  maxAbsDifference: number
  bytesPerCall: number
}

/** In a node-like process (main figures) and in a pristine one. */
export interface AggregationResult extends AggregationFigures {
  /** The same measurement in a fresh process where no ArrayBuffer was ever detached. */
  pristine?: AggregationFigures
  /** Why `pristine` is missing, when it is. */
  pristineError?: string
  settings: typeof AGGREGATION
}

/**
 * The baseline: `sum_i (w_i / W) * x_i` per layer, with a Float32Array
 * accumulator, normalised weights computed once, no checks, no float64.
 */
function plainWeightedSum (global: WeightRecord, updates: ClientUpdate[]): Float32Array[] {
  let total = 0
  for (const u of updates) total += u.numExamples
  return global.map((_g, l) => {
    const out = new Float32Array(global[l].data.length)
    for (const u of updates) {
      const x = u.weights[l].data
      const w = u.numExamples / total
      for (let j = 0; j < out.length; j++) out[j] += w * x[j]
    }
    return out
  })
}

function maxAbsDifference (a: WeightRecord, b: Float32Array[]): number {
  let max = 0
  a.forEach((t, l) => { for (let j = 0; j < t.data.length; j++) max = Math.max(max, Math.abs(t.data[j] - b[l][j])) })
  return max
}

function updatesOf (count: number): ClientUpdate[] {
  return Array.from({ length: count }, (_, i) => ({
    clientId: `client-${i}`,
    weights: syntheticRecord(i + 1),
    numExamples: 50 + 7 * i,
    metrics: { loss: 0, accuracy: 0, trainMs: 0 }
  }))
}

function timed (fn: () => unknown): number {
  const started = performance.now()
  fn()
  return performance.now() - started
}

/** Measure in this process as it is. */
export function measureAggregationHere (progress: (line: string) => void): AggregationFigures {
  const global = syntheticRecord(0)
  const updates = updatesOf(AGGREGATION.updates)
  const strategy = fedAvg()
  const ctx: RoundContext = { round: 1, attempt: 1, global, clients: [], sampleSize: updates.length, rng: createRng(1), seed: 1 }
  const kernel = (): WeightRecord => {
    const next = strategy.aggregate(ctx, updates, [])
    if (next instanceof Promise) throw new Error('FedAvg aggregates synchronously')
    return next
  }
  const plain = (): Float32Array[] => plainWeightedSum(global, updates)
  const difference = maxAbsDifference(kernel(), plain())
  for (let i = 0; i < AGGREGATION.warmup; i++) { kernel(); plain() }
  progress(`aggregation: ${AGGREGATION.repetitions} x (kernel, plain) over ${updates.length} updates of ${MODEL_DATA_BYTES / 1e6} MB`)
  const kernelMs: number[] = []
  const plainMs: number[] = []
  for (let i = 0; i < AGGREGATION.repetitions; i++) {
    if (i % 2 === 0) { kernelMs.push(timed(kernel)); plainMs.push(timed(plain)) } else { plainMs.push(timed(plain)); kernelMs.push(timed(kernel)) }
  }
  const bytesPerCall = updates.length * MODEL_DATA_BYTES
  const kernelMedianMs = median(kernelMs)
  const plainMedianMs = median(plainMs)
  const kernelGBps = bytesPerCall / (kernelMedianMs / 1000) / 1e9
  const plainGBps = bytesPerCall / (plainMedianMs / 1000) / 1e9
  progress(`aggregation: kernel ${round2(kernelGBps)} GB/s, plain ${round2(plainGBps)} GB/s (target ratio ${TARGETS.aggregationRatio})`)
  return {
    kernelGBps: round2(kernelGBps),
    plainGBps: round2(plainGBps),
    ratio: round3(kernelGBps / plainGBps),
    kernelMedianMs: round2(kernelMedianMs),
    plainMedianMs: round2(plainMedianMs),
    maxAbsDifference: difference,
    bytesPerCall
  }
}

/** The pristine measurement: `aggregation-child.js` prints its figures as one JSON line. */
async function measurePristine (): Promise<AggregationFigures> {
  const script = fileURLToPath(new URL('./aggregation-child.js', import.meta.url))
  const { stdout } = await execFileAsync(process.execPath, [script], { timeout: 120_000 })
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '')
}

/** Both measurements; see the module TSDoc. */
export async function measureAggregation (progress: (line: string) => void): Promise<AggregationResult> {
  let pristine: AggregationFigures | undefined
  let pristineError: string | undefined
  progress('aggregation: in a fresh process (no ArrayBuffer ever detached)')
  try {
    pristine = await measurePristine()
    progress(`aggregation: fresh process: kernel ${pristine.kernelGBps} GB/s, plain ${pristine.plainGBps} GB/s`)
  } catch (err: any) {
    pristineError = String(err?.message ?? err)
    progress(`aggregation: fresh-process measurement failed: ${pristineError}`)
  }
  // Put this process in the state of every edge-mesh node (see the module TSDoc), whatever was imported before.
  const scratch = new ArrayBuffer(8)
  structuredClone(scratch, { transfer: [scratch] })
  progress('aggregation: in this process (ArrayBuffers detached, as in a node)')
  const figures = measureAggregationHere(progress)
  return { ...figures, pristine, pristineError, settings: AGGREGATION }
}
