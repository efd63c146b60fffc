/**
 * A client's uplink: what it does to its update before the update leaves the
 * device, the same code in simulations (`client-pipeline.ts`) and on mesh
 * participants (`participant-uplink.ts`):
 *
 * 1. local DP: clip the delta to `clipNorm` and add N(0, (z·clipNorm)²) to
 *    every value (McMahan et al. 2018, the local form);
 * 2. compression of the (noised) delta: int8 with stochastic rounding, or
 *    top-k with DGC's error feedback (`dgc.ts`), whose state is kept here per
 *    client and run.
 *
 * Noise before compression: compression is post-processing, so the DP
 * guarantee is unchanged, and the residual of top-k only ever holds noised
 * values.
 */
import { quantizeInt8 } from './compression.js'
import { encodeCompressed } from './compression-codec.js'
import { TopKState, densityAt, topKBytesBound } from './dgc.js'
import { addGaussianInPlace, applyDelta, clipInPlace, deltaOf } from './delta.js'
import type { Compression } from './compression.js'
import type { SparsifyOptions } from './dgc.js'
import type { WeightRecord } from '../../model/types.js'

/** Local DP parameters a client applies. */
export interface LocalDp {
  clipNorm: number
  noiseMultiplier: number
}

/** How one round's update is compressed: top-k carries the round's density (warm-up applied), and the round for the stale-residual discount. */
export type RoundCompression = { scheme: 'none' } | { scheme: 'int8' } | { scheme: 'topk', density: number, momentum: number, clipNorm: number, staleness: number, round: number }

/** Everything a client applies to one round's update (what ANNOUNCE tells a mesh participant). */
export interface RoundUplink {
  compression: RoundCompression
  localDp?: LocalDp
}

/** Randomness of the uplink: uniform draws for int8 rounding, normal draws for DP noise. */
export interface UplinkRandom {
  next(): number
  normal(): number
}

/** The update as it leaves the client: a weight record, or the bytes of a compressed update. */
export type EncodedUpdate = { kind: 'record', weights: WeightRecord } | { kind: 'compressed', bytes: Uint8Array }

/** The run's compression for `round` (top-k density after warm-up). */
export function roundCompression (c: Compression, round: number): RoundCompression {
  if (c.scheme !== 'topk') return c
  return { scheme: 'topk', density: densityAt(round, c), momentum: c.momentum, clipNorm: c.clipNorm, staleness: c.staleness, round }
}

/** Largest compressed update of `c` for layers of these lengths; undefined without compression. */
export function compressedBytesBound (lengths: readonly number[], c: RoundCompression): number | undefined {
  if (c.scheme === 'none') return undefined
  if (c.scheme === 'int8') return 12 + lengths.reduce((n, len) => n + 8 + len, 0)
  return topKBytesBound(lengths, c.density)
}

/** One client's uplink in one run (keeps the top-k residual and velocity between its rounds). */
export class ClientUplink {
  private readonly topk = new TopKState()

  /** Apply local DP and compression to `weights - global`. */
  encode (global: WeightRecord, weights: WeightRecord, uplink: RoundUplink, random: UplinkRandom): EncodedUpdate {
    const c = uplink.compression
    if (c.scheme === 'none' && uplink.localDp === undefined) return { kind: 'record', weights }
    const delta = deltaOf(global, weights)
    if (uplink.localDp !== undefined) {
      clipInPlace(delta, uplink.localDp.clipNorm)
      addGaussianInPlace(delta, uplink.localDp.noiseMultiplier * uplink.localDp.clipNorm, random.normal)
    }
    if (c.scheme === 'none') return { kind: 'record', weights: applyDelta(global, delta) }
    if (c.scheme === 'int8') return { kind: 'compressed', bytes: encodeCompressed({ scheme: 'int8', layers: delta.map((d) => quantizeInt8(d, random.next)) }) }
    const options: SparsifyOptions = { momentum: c.momentum, clipNorm: c.clipNorm, staleness: c.staleness, round: c.round }
    return { kind: 'compressed', bytes: encodeCompressed({ scheme: 'topk', layers: this.topk.sparsify(delta, c.density, options) }) }
  }
}
