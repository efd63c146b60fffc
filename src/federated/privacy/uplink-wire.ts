/**
 * A run's uplink settings over `/edge-mesh/fedavg/1.0.0` (docs/protocols.md,
 * "Compressed updates and local DP over the mesh"):
 *
 * - the coordinator writes the round's settings into optional ANNOUNCE fields
 *   (`compression`, `topkDensity`, `topkMomentum`, `topkClipNorm`,
 *   `topkStaleness`, `localDpClipNorm`, `localDpNoise`), the participant
 *   reads them back (with the ANNOUNCE's `round`, for the stale-residual
 *   discount);
 * - a participant's PUSH says `encoding: "compressed"` when its data frames
 *   are a compressed update;
 * - the coordinator (`UplinkPolicy`) bounds the size of a compressed PUSH
 *   before reading it and decodes it against the global model, refusing a
 *   PUSH whose encoding is not the run's (each refusal counted by reason).
 */
import { InvalidMessageError, InvalidUpdateError, MessageTooLargeError } from '../../errors.js'
import { decodeCompressed, SCHEME_CODES } from './compression-codec.js'
import { applyDelta } from './delta.js'
import { compressedBytesBound, roundCompression } from './uplink.js'
import type { Compression } from './compression.js'
import type { LocalDp, RoundUplink } from './uplink.js'
import type { AnnounceMessage, PushMessage } from '../mesh/protocol/messages.js'
import type { WeightRecord } from '../../model/types.js'

/** The optional ANNOUNCE fields of a round's uplink. */
export type AnnounceUplinkFields = Pick<AnnounceMessage, 'compression' | 'topkDensity' | 'topkMomentum' | 'topkClipNorm' | 'topkStaleness' | 'localDpClipNorm' | 'localDpNoise'>

/** Refusal reasons of compressed updates, as counted in `edge_mesh_federated_refusals_total{reason}`. */
export type UplinkRefusal = 'compressed_oversized' | 'compressed_malformed' | 'compression_mismatch'

/** The ANNOUNCE fields of `uplink` (none for a plain run, so old participants see the message they know). */
export function uplinkAnnounceFields (uplink: RoundUplink): AnnounceUplinkFields {
  const c = uplink.compression
  const out: AnnounceUplinkFields = {}
  if (c.scheme === 'int8') out.compression = 'int8'
  if (c.scheme === 'topk') {
    out.compression = 'topk'
    out.topkDensity = c.density
    if (c.momentum > 0) out.topkMomentum = c.momentum
    if (c.clipNorm > 0) out.topkClipNorm = c.clipNorm
    if (c.staleness > 0) out.topkStaleness = c.staleness
  }
  if (uplink.localDp !== undefined) {
    out.localDpClipNorm = uplink.localDp.clipNorm
    out.localDpNoise = uplink.localDp.noiseMultiplier
  }
  return out
}

/** A participant's reading of the ANNOUNCE fields of round `a.round`; InvalidMessageError when they contradict each other. */
export function uplinkFromAnnounce (a: AnnounceUplinkFields & { round: number }): RoundUplink {
  const hasDp = a.localDpClipNorm !== undefined || a.localDpNoise !== undefined
  if (hasDp && (a.localDpClipNorm === undefined || a.localDpNoise === undefined)) throw new InvalidMessageError('announce: localDpClipNorm and localDpNoise go together')
  const localDp: LocalDp | undefined = hasDp ? { clipNorm: a.localDpClipNorm as number, noiseMultiplier: a.localDpNoise as number } : undefined
  const withDp = (u: RoundUplink): RoundUplink => (localDp === undefined ? u : { ...u, localDp })
  if (a.compression === undefined) {
    if (a.topkDensity !== undefined) throw new InvalidMessageError('announce: topkDensity without compression "topk"')
    return withDp({ compression: { scheme: 'none' } })
  }
  if (a.compression === 'int8') return withDp({ compression: { scheme: 'int8' } })
  if (a.topkDensity === undefined) throw new InvalidMessageError('announce: compression "topk" needs topkDensity')
  return withDp({ compression: { scheme: 'topk', density: a.topkDensity, momentum: a.topkMomentum ?? 0, clipNorm: a.topkClipNorm ?? 0, staleness: a.topkStaleness ?? 0, round: a.round } })
}

/** A run's uplink on its coordinator: what each round's ANNOUNCE asks, and how PUSHes are bounded and decoded. */
export class UplinkPolicy {
  constructor (
    private readonly compression: Compression,
    private readonly localDp: LocalDp | undefined,
    private readonly onRefused: (reason: UplinkRefusal) => void = () => {}
  ) {}

  /** True when the run asks for neither compression nor local DP. */
  get plain (): boolean {
    return this.compression.scheme === 'none' && this.localDp === undefined
  }

  /** The settings of `round`. */
  round (round: number): RoundUplink {
    return { compression: roundCompression(this.compression, round), ...(this.localDp === undefined ? {} : { localDp: this.localDp }) }
  }

  /**
   * Refuse, before its data is read, a compressed PUSH larger than the run's
   * encoding allows in its round (MessageTooLargeError). A compressed PUSH to
   * a run without compression is left to `decode` (refused there).
   */
  checkSize (global: WeightRecord, push: Pick<PushMessage, 'round' | 'weightBytes' | 'encoding'>): void {
    if (push.encoding !== 'compressed') return
    const bound = compressedBytesBound(global.map((g) => g.data.length), this.round(push.round).compression)
    if (bound === undefined || push.weightBytes <= bound) return
    this.onRefused('compressed_oversized')
    throw new MessageTooLargeError(`compressed update of ${push.weightBytes} bytes exceeds the ${bound} bytes its round allows`)
  }

  /** The client's weights from its PUSH payload, or InvalidUpdateError (a payload that is not the run's encoding, or malformed). */
  decode (global: WeightRecord, round: number, payload: { record?: WeightRecord, compressed?: Uint8Array }): WeightRecord {
    const c = this.round(round).compression
    if (c.scheme === 'none') {
      if (payload.record !== undefined) return payload.record
      this.refuse('compression_mismatch', 'this run does not compress updates: push a weight record')
    }
    if (payload.compressed === undefined) this.refuse('compression_mismatch', `this run compresses updates (${c.scheme}): push a compressed update`)
    if (payload.compressed[5] !== SCHEME_CODES[c.scheme as 'int8' | 'topk']) this.refuse('compression_mismatch', `compressed update of scheme ${payload.compressed[5]}, the run uses ${c.scheme}`)
    try {
      return applyDelta(global, decodeCompressed(payload.compressed, global.map((g) => g.data.length)))
    } catch (err: any) {
      this.refuse('compressed_malformed', String(err?.message ?? err))
    }
  }

  private refuse (reason: UplinkRefusal, message: string): never {
    this.onRefused(reason)
    throw new InvalidUpdateError(message)
  }
}

/** The uplink policy of a run spec: undefined when it asks for neither compression nor local DP. */
export function uplinkPolicyOf (spec: { compression?: Compression, dp?: { mode: string, clipNorm: number, noiseMultiplier: number } }, onRefused?: (reason: UplinkRefusal) => void): UplinkPolicy | undefined {
  const localDp = spec.dp?.mode === 'local' ? { clipNorm: spec.dp.clipNorm, noiseMultiplier: spec.dp.noiseMultiplier } : undefined
  if (spec.compression === undefined && localDp === undefined) return undefined
  return new UplinkPolicy(spec.compression ?? { scheme: 'none' }, localDp, onRefused)
}
