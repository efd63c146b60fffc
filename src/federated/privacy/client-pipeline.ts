/**
 * What a client does to its update before it leaves the device, as a Grid
 * wrapper for simulations: local DP (clip and noise), then compression (int8
 * or top-k with error feedback, whose residual this wrapper keeps per client
 * exactly as the client would). The coordinator side decodes the bytes the
 * client produced, so `bytes.up` is the size of what was really encoded.
 *
 * Over the mesh these steps belong in the participant; that wiring is not
 * done yet (see docs/privacy.md).
 */
import { createRng, deriveSeed } from '../rng.js'
import { ErrorFeedback, quantizeInt8 } from './compression.js'
import { decodeCompressed, encodeCompressed } from './compression-codec.js'
import { applyDelta, deltaOf } from './delta.js'
import { privatizeUpdate } from './dp-strategy.js'
import type { Compression } from './compression.js'
import type { ResolvedDpOptions } from './dp-options.js'
import type { Grid } from '../grid.js'
import type { Rng } from '../rng.js'
import type { WeightRecord } from '../../model/types.js'

export interface ClientPipelineInit {
  /** Local DP: each client clips and noises its update. */
  localDp?: Pick<ResolvedDpOptions, 'clipNorm' | 'noiseMultiplier'>
  /** @default { scheme: 'none' } */
  compression?: Compression
  /** Seed of the clients' noise and rounding. @default 0 */
  seed?: number
}

/** Seed streams of the client-side randomness. */
const LOCAL_NOISE_STREAM = 0x10CA1
const ROUNDING_STREAM = 0x0B175

function hashId (id: string): number {
  let h = 2166136261
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619)
  return h >>> 0
}

/** The client's encoder: compress `weights - global` into bytes. */
export function compressUpdate (global: WeightRecord, weights: WeightRecord, compression: Compression, rng: Rng, feedback?: ErrorFeedback): Uint8Array | undefined {
  if (compression.scheme === 'none') return undefined
  const delta = deltaOf(global, weights)
  if (compression.scheme === 'int8') return encodeCompressed({ scheme: 'int8', layers: delta.map((d) => quantizeInt8(d, rng.next)) })
  return encodeCompressed({ scheme: 'topk', layers: (feedback ?? new ErrorFeedback()).sparsify(delta, compression.ratio) })
}

/** The coordinator's decoder: the client's weights from its compressed update. */
export function decompressUpdate (global: WeightRecord, bytes: Uint8Array): WeightRecord {
  return applyDelta(global, decodeCompressed(bytes, global.map((g) => g.data.length)))
}

/** Wrap `grid` so every update goes through the client pipeline. */
export function withClientPipeline (grid: Grid, init: ClientPipelineInit): Grid {
  const compression = init.compression ?? { scheme: 'none' }
  const seed = init.seed ?? 0
  const feedback = new Map<string, ErrorFeedback>()
  const feedbackOf = (id: string): ErrorFeedback => {
    let f = feedback.get(id)
    if (f === undefined) {
      f = new ErrorFeedback()
      feedback.set(id, f)
    }
    return f
  }
  return {
    clients: () => grid.clients(),
    async train (clientId, request, options) {
      const update = await grid.train(clientId, request, options)
      let weights = update.weights
      if (init.localDp !== undefined) {
        weights = privatizeUpdate(request.weights, weights, init.localDp, createRng(deriveSeed(seed, LOCAL_NOISE_STREAM, request.round, hashId(clientId))))
      }
      const rng = createRng(deriveSeed(seed, ROUNDING_STREAM, request.round, hashId(clientId)))
      const bytes = compressUpdate(request.weights, weights, compression, rng, feedbackOf(clientId))
      if (bytes === undefined) return { ...update, weights }
      return { ...update, weights: decompressUpdate(request.weights, bytes), bytes: { down: update.bytes?.down ?? 0, up: bytes.byteLength } }
    }
  }
}
