/**
 * One model as `GET /status`, `edge-mesh status` and the dashboard show it:
 * format, input signature, whether requests for it are micro-batched (and up
 * to how many rows a batch takes now), and its measured per-inference time on
 * this node.
 */
import type { InferenceTiming, ModelFormat, ModelInfo, TensorSignature } from '../model/types.js'

export interface ModelStatus {
  id: string
  name: string
  parameters: number
  format: ModelFormat
  /** Input names, dtypes and shapes (`-1` = free dimension). */
  inputs: TensorSignature[]
  /** False for models with a fixed batch size: each request runs alone. */
  microBatching: boolean
  /**
   * Most rows one micro-batch of this model takes on this node now: what fits
   * in the engine's `maxBatchMs` at the measured time per row, up to
   * `maxBatchSize` (1 until measured, and for a fixed batch). Absent when the
   * node does not serve inference.
   */
  batchRows?: number
  /** Graph models: `sync` (`execute`) or `async` (`executeAsync`, control flow). */
  execution?: 'sync' | 'async'
  /** Measured on this node over the last `predict` calls; absent until the model has run. */
  timing?: InferenceTiming
  /** Why it is loaded: `configured`, `created` or `fetched` (fetched models are not announced). */
  origin?: string
}

export function modelStatus (m: ModelInfo, batchRows?: number): ModelStatus {
  return {
    id: m.id,
    name: m.name,
    parameters: m.parameters,
    format: m.format ?? 'layers-model',
    inputs: m.inputs ?? m.inputShapes.map((shape, i) => ({ name: `input_${i}`, dtype: 'float32', shape })),
    microBatching: m.fixedBatch !== true,
    ...(batchRows != null ? { batchRows } : {}),
    ...(m.execution != null ? { execution: m.execution } : {}),
    ...(m.timing != null ? { timing: m.timing } : {}),
    ...(m.origin != null ? { origin: m.origin } : {})
  }
}

/** `int32[1,192,192,3]`, inputs joined by `, `. */
export function formatSignature (inputs: TensorSignature[]): string {
  return inputs.map(t => `${t.dtype}[${t.shape.map(d => d === -1 ? 'n' : String(d)).join(',')}]`).join(', ')
}
