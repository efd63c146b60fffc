/**
 * One model as `GET /status`, `edge-mesh status` and the dashboard show it:
 * format, input signature, whether requests for it are micro-batched, and its
 * measured per-inference time on this node.
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
  /** Graph models: `sync` (`execute`) or `async` (`executeAsync`, control flow). */
  execution?: 'sync' | 'async'
  /** Measured on this node over the last `predict` calls; absent until the model has run. */
  timing?: InferenceTiming
}

export function modelStatus (m: ModelInfo): ModelStatus {
  return {
    id: m.id,
    name: m.name,
    parameters: m.parameters,
    format: m.format ?? 'layers-model',
    inputs: m.inputs ?? m.inputShapes.map((shape, i) => ({ name: `input_${i}`, dtype: 'float32', shape })),
    microBatching: m.fixedBatch !== true,
    ...(m.execution != null ? { execution: m.execution } : {}),
    ...(m.timing != null ? { timing: m.timing } : {})
  }
}

/** `int32[1,192,192,3]`, inputs joined by `, `. */
export function formatSignature (inputs: TensorSignature[]): string {
  return inputs.map(t => `${t.dtype}[${t.shape.map(d => d === -1 ? 'n' : String(d)).join(',')}]`).join(', ')
}
