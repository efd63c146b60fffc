/**
 * Update compression maths (no bytes here; see `compression-codec.ts`):
 * - stochastic int8 quantization in the style of QSGD (Alistarh et al. 2017)
 *   with one scale per layer: `v = x / s * 127` is rounded down or up at
 *   random with the probability that makes the result unbiased, `E[q s/127] = x`;
 * - top-k sparsification with error feedback (Deep Gradient Compression, Lin
 *   et al. 2018, without its momentum correction): the client adds what it did
 *   not send last time to its new delta, sends the k largest magnitudes per
 *   layer, and keeps the rest as its residual.
 */
import { InvalidConfigError } from '../../errors.js'
import type { Delta } from './delta.js'

/** How updates travel: dense float32, int8 with a per-layer scale, or the top fraction of values. */
export type Compression = { scheme: 'none' } | { scheme: 'int8' } | { scheme: 'topk', ratio: number }

/** Quantization levels on each side of zero. */
export const INT8_LEVELS = 127

/** Parse `none`, `int8` or `topk:<ratio>` (ratio in (0, 1], e.g. `topk:0.01`). */
export function parseCompression (text: string | undefined): Compression {
  if (text === undefined || text === 'none') return { scheme: 'none' }
  if (text === 'int8') return { scheme: 'int8' }
  const m = /^topk:([0-9.eE+-]+)$/.exec(text)
  const ratio = m === null ? Number.NaN : Number(m[1])
  if (!(ratio > 0 && ratio <= 1)) throw new InvalidConfigError(`compression: expected none, int8 or topk:<ratio in (0, 1]>, got "${text}"`)
  return { scheme: 'topk', ratio }
}

/** The name `parseCompression` reads back. */
export function compressionName (c: Compression): string {
  return c.scheme === 'topk' ? `topk:${c.ratio}` : c.scheme
}

/** One layer quantized to int8. */
export interface QuantizedLayer { scale: number, values: Int8Array }

/** Unbiased stochastic int8 quantization of one layer; `uniform` draws from [0, 1). */
export function quantizeInt8 (x: Float32Array, uniform: () => number): QuantizedLayer {
  let scale = 0
  for (let i = 0; i < x.length; i++) scale = Math.max(scale, Math.abs(x[i]))
  const values = new Int8Array(x.length)
  if (scale === 0 || !Number.isFinite(scale)) return { scale: Number.isFinite(scale) ? scale : 0, values }
  const k = INT8_LEVELS / scale
  for (let i = 0; i < x.length; i++) {
    const v = x[i] * k
    const lo = Math.floor(v)
    values[i] = uniform() < v - lo ? lo + 1 : lo
  }
  return { scale, values }
}

/** Back to float32: `q * scale / 127`. */
export function dequantizeInt8 (layer: QuantizedLayer): Float32Array {
  const k = layer.scale / INT8_LEVELS
  return Float32Array.from(layer.values, (q) => q * k)
}

/** A sparse layer: increasing indices and their values. */
export interface SparseLayer { length: number, indices: Uint32Array, values: Float32Array }

/** Values kept of a layer of `length` values: `max(1, ceil(ratio * length))`, at most `length`. */
export function keptCount (length: number, ratio: number): number {
  return Math.min(length, Math.max(1, Math.ceil(ratio * length)))
}

/** The k entries of `x` of largest magnitude (ties broken by lower index), indices increasing. */
export function topK (x: Float32Array, k: number): SparseLayer {
  const order = Uint32Array.from({ length: x.length }, (_, i) => i)
  order.sort((a, b) => Math.abs(x[b]) - Math.abs(x[a]) || a - b)
  const indices = order.subarray(0, Math.min(k, x.length)).slice().sort()
  return { length: x.length, indices, values: Float32Array.from(indices, (i) => x[i]) }
}

/** Dense float32 from a sparse layer. */
export function densify (layer: SparseLayer): Float32Array {
  const out = new Float32Array(layer.length)
  for (let j = 0; j < layer.indices.length; j++) out[layer.indices[j]] = layer.values[j]
  return out
}

/**
 * Error feedback of one client: `sparsify` adds the residual to `delta`,
 * keeps the top `ratio` of each layer and stores the rest for next time.
 */
export class ErrorFeedback {
  private residual: Delta | undefined

  sparsify (delta: Delta, ratio: number): SparseLayer[] {
    const fresh = this.residual === undefined || this.residual.length !== delta.length || this.residual.some((r, l) => r.length !== delta[l].length)
    const acc = delta.map((d, l) => {
      const out = Float32Array.from(d)
      if (!fresh) for (let i = 0; i < out.length; i++) out[i] += (this.residual as Delta)[l][i]
      return out
    })
    const sent = acc.map((a) => topK(a, keptCount(a.length, ratio)))
    for (let l = 0; l < acc.length; l++) for (const i of sent[l].indices) acc[l][i] = 0
    this.residual = acc
    return sent
  }
}
