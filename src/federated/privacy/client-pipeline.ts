/**
 * What a client does to its update before it leaves the device, as a Grid
 * wrapper for simulations: the same `ClientUplink` a mesh participant runs
 * (local DP, then int8 or top-k with DGC's error feedback, whose state this
 * wrapper keeps per client exactly as the client would). The coordinator side
 * decodes the bytes the client produced, so `bytes.up` is the size of what
 * was really encoded.
 */
import { createRng, deriveSeed } from '../rng.js'
import { decodeCompressed } from './compression-codec.js'
import { applyDelta } from './delta.js'
import { ClientUplink, roundCompression } from './uplink.js'
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
  /** Seed of the clients' noise and rounding (simulations are reproducible; mesh participants draw from the OS CSPRNG). @default 0 */
  seed?: number
}

/** Seed streams of the client-side randomness. */
const UPLINK_STREAM = 0x0B175

function hashId (id: string): number {
  let h = 2166136261
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619)
  return h >>> 0
}

/** The client's encoder for one update without state (int8, or top-k without a residual): compressed bytes, or undefined for `none`. */
export function compressUpdate (global: WeightRecord, weights: WeightRecord, compression: Compression, rng: Rng, uplink = new ClientUplink()): Uint8Array | undefined {
  const encoded = uplink.encode(global, weights, { compression: roundCompression(compression, Number.MAX_SAFE_INTEGER) }, rng)
  return encoded.kind === 'compressed' ? encoded.bytes : undefined
}

/** The coordinator's decoder: the client's weights from its compressed update (InvalidUpdateError when malformed). */
export function decompressUpdate (global: WeightRecord, bytes: Uint8Array): WeightRecord {
  return applyDelta(global, decodeCompressed(bytes, global.map((g) => g.data.length)))
}

/** Wrap `grid` so every update goes through the client pipeline. */
export function withClientPipeline (grid: Grid, init: ClientPipelineInit): Grid {
  const compression = init.compression ?? { scheme: 'none' }
  const seed = init.seed ?? 0
  const uplinks = new Map<string, ClientUplink>()
  const uplinkOf = (id: string): ClientUplink => {
    let u = uplinks.get(id)
    if (u === undefined) {
      u = new ClientUplink()
      uplinks.set(id, u)
    }
    return u
  }
  return {
    clients: () => grid.clients(),
    async train (clientId, request, options) {
      const update = await grid.train(clientId, request, options)
      const rng = createRng(deriveSeed(seed, UPLINK_STREAM, request.round, hashId(clientId)))
      const round = { compression: roundCompression(compression, request.round), localDp: init.localDp }
      const encoded = uplinkOf(clientId).encode(request.weights, update.weights, round, rng)
      if (encoded.kind === 'record') return { ...update, weights: encoded.weights }
      return { ...update, weights: decompressUpdate(request.weights, encoded.bytes), bytes: { down: update.bytes?.down ?? 0, up: encoded.bytes.byteLength } }
    }
  }
}
