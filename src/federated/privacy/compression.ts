/**
 * Update compression maths (no bytes here; see `compression-codec.ts`):
 * - stochastic int8 quantization in the style of QSGD (Alistarh et al. 2017)
 *   with one scale per layer: `v = x / s * 127` is rounded down or up at
 *   random with the probability that makes the result unbiased, `E[q s/127] = x`;
 * - top-k sparsification: the k largest magnitudes per layer; the client's
 *   error feedback, momentum correction, clipping and warm-up (Deep Gradient
 *   Compression, Lin et al. 2018) are in `dgc.ts`.
 */
import { InvalidConfigError } from '../../errors.js'
import {
  DEFAULT_TOPK_AVERAGE, DEFAULT_TOPK_CLIP_NORM, DEFAULT_TOPK_MOMENTUM, DEFAULT_TOPK_STALENESS, DEFAULT_TOPK_WARMUP_DENSITY, DEFAULT_TOPK_WARMUP_ROUNDS
} from './constants.js'
import type { TopKAverage, TopKOptions } from './dgc.js'

/** How updates travel: dense float32, int8 with a per-layer scale, or the top fraction of values (DGC options in `dgc.ts`). */
export type Compression = { scheme: 'none' } | { scheme: 'int8' } | ({ scheme: 'topk' } & TopKOptions)

/** Quantization levels on each side of zero. */
export const INT8_LEVELS = 127

/** The DGC options of a top-k ratio, each taken from `options` or its default. */
export function topKOptions (ratio: number, options: Partial<Omit<TopKOptions, 'ratio'>> = {}): TopKOptions {
  const o: TopKOptions = {
    ratio,
    momentum: options.momentum ?? DEFAULT_TOPK_MOMENTUM,
    clipNorm: options.clipNorm ?? DEFAULT_TOPK_CLIP_NORM,
    warmupRounds: options.warmupRounds ?? DEFAULT_TOPK_WARMUP_ROUNDS,
    warmupDensity: Math.max(ratio, options.warmupDensity ?? DEFAULT_TOPK_WARMUP_DENSITY),
    staleness: options.staleness ?? DEFAULT_TOPK_STALENESS,
    average: options.average ?? DEFAULT_TOPK_AVERAGE
  }
  const bad = (field: string, v: number, range: string): never => { throw new InvalidConfigError(`compression.${field}: expected ${range}, got ${v}`) }
  if (!(o.ratio > 0 && o.ratio <= 1)) bad('ratio', o.ratio, 'a number in (0, 1]')
  if (!(o.momentum >= 0 && o.momentum < 1)) bad('momentum', o.momentum, 'a number in [0, 1)')
  if (!(o.clipNorm >= 0 && Number.isFinite(o.clipNorm))) bad('clipNorm', o.clipNorm, 'a number >= 0')
  if (!(Number.isInteger(o.warmupRounds) && o.warmupRounds >= 0 && o.warmupRounds <= 1000)) bad('warmupRounds', o.warmupRounds, 'an integer in 0..1000')
  if (!(o.warmupDensity > 0 && o.warmupDensity <= 1)) bad('warmupDensity', o.warmupDensity, 'a number in (0, 1]')
  if (!(o.staleness >= 0 && o.staleness <= 16)) bad('staleness', o.staleness, 'a number in [0, 16]')
  if (o.average !== 'all' && o.average !== 'senders') throw new InvalidConfigError(`compression.average: expected "all" or "senders", got ${JSON.stringify(o.average)}`)
  return o
}

/** Keys of `topk:<ratio>,<key>=<value>,…` and the option each sets. */
const TOPK_KEYS: Readonly<Record<string, keyof Omit<TopKOptions, 'ratio'>>> = {
  momentum: 'momentum', clip: 'clipNorm', warmup: 'warmupRounds', warmupDensity: 'warmupDensity', staleness: 'staleness', average: 'average'
}

/**
 * Parse `none`, `int8` or `topk:<ratio>` (ratio in (0, 1], e.g. `topk:0.01`);
 * a top-k ratio takes the DGC options from `options` or their defaults, and
 * any of them from a `,<key>=<value>` list after the ratio (`momentum`,
 * `clip`, `warmup`, `warmupDensity`, `staleness`, `average=all|senders`), e.g.
 * `topk:0.01,momentum=0,warmup=0,staleness=1,average=senders` (what
 * docs/privacy.md measures for rare participation).
 */
export function parseCompression (text: string | undefined, options: Partial<Omit<TopKOptions, 'ratio'>> = {}): Compression {
  if (text === undefined || text === 'none') return { scheme: 'none' }
  if (text === 'int8') return { scheme: 'int8' }
  const [head, ...pairs] = text.split(',')
  const m = /^topk:([0-9.eE+-]+)$/.exec(head)
  const ratio = m === null ? Number.NaN : Number(m[1])
  if (!(ratio > 0 && ratio <= 1)) throw new InvalidConfigError(`compression: expected none, int8 or topk:<ratio in (0, 1]>[,<key>=<value>…], got "${text}"`)
  const set: Record<string, number | string> = { ...options }
  for (const pair of pairs) {
    const [key, value, extra] = pair.split('=')
    const field = Object.hasOwn(TOPK_KEYS, key) ? TOPK_KEYS[key] : undefined
    if (field === undefined || value === undefined || value === '' || extra !== undefined) {
      throw new InvalidConfigError(`compression: expected <key>=<value> with a key among ${Object.keys(TOPK_KEYS).join(', ')}, got "${pair}"`)
    }
    const num = Number(value)
    if (field !== 'average' && !Number.isFinite(num)) throw new InvalidConfigError(`compression.${key}: expected a number, got "${value}"`)
    set[field] = field === 'average' ? value : num
  }
  return { scheme: 'topk', ...topKOptions(ratio, set as Partial<Omit<TopKOptions, 'ratio'>>) }
}

/** The name `parseCompression` reads back (without the DGC options). */
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

/**
 * The k entries of `x` of largest magnitude (ties broken by lower index),
 * indices increasing. The k-th largest magnitude comes from a native numeric
 * sort of the magnitudes (a comparator sort of indices is ~50x slower on the
 * 2NN's 156,800-value layer); one pass then takes every value above it and
 * the first ties.
 */
export function topK (x: Float32Array, k: number): SparseLayer {
  const n = Math.min(k, x.length)
  if (n === 0) return { length: x.length, indices: new Uint32Array(0), values: new Float32Array(0) }
  const magnitudes = Float32Array.from(x, Math.abs).sort()
  const threshold = magnitudes[x.length - n]
  let above = 0
  for (let i = x.length - 1; i >= 0 && magnitudes[i] > threshold; i--) above++
  let ties = n - above
  const indices = new Uint32Array(n)
  let j = 0
  for (let i = 0; i < x.length && j < n; i++) {
    const m = Math.abs(x[i])
    if (m > threshold || (m === threshold && ties-- > 0)) indices[j++] = i
  }
  return { length: x.length, indices, values: Float32Array.from(indices, (i) => x[i]) }
}

/** Dense float32 from a sparse layer. */
export function densify (layer: SparseLayer): Float32Array {
  const out = new Float32Array(layer.length)
  for (let j = 0; j < layer.indices.length; j++) out[layer.indices[j]] = layer.values[j]
  return out
}

/**
 * The `compression` field of a run spec: a name (`none`, `int8`, `topk:<ratio>`)
 * or an object `{ scheme, ratio?, momentum?, clipNorm?, warmupRounds?, warmupDensity?, staleness?, average? }`;
 * undefined and `none` give undefined. Throws InvalidConfigError naming the field.
 */
export function parseCompressionSpec (v: unknown): Compression | undefined {
  if (v === undefined || v === null || v === 'none') return undefined
  if (typeof v === 'string') return parseCompression(v)
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidConfigError('compression: expected "int8", "topk:<ratio>" or an object { scheme, ratio, momentum, clipNorm, warmupRounds, warmupDensity, staleness, average }')
  const o = v as Record<string, unknown>
  if (o.scheme === 'none') return undefined
  if (o.scheme === 'int8') return { scheme: 'int8' }
  if (o.scheme !== 'topk') throw new InvalidConfigError(`compression.scheme: expected none, int8 or topk, got ${JSON.stringify(o.scheme)}`)
  const num = (field: string): number | undefined => {
    const x = o[field]
    if (x === undefined || x === null) return undefined
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new InvalidConfigError(`compression.${field}: expected a number, got ${JSON.stringify(x)}`)
    return x
  }
  const average = o.average === undefined || o.average === null ? undefined : o.average as TopKAverage
  return {
    scheme: 'topk',
    ...topKOptions(num('ratio') ?? Number.NaN, { momentum: num('momentum'), clipNorm: num('clipNorm'), warmupRounds: num('warmupRounds'), warmupDensity: num('warmupDensity'), staleness: num('staleness'), average })
  }
}
