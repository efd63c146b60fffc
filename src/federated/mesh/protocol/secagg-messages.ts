/**
 * The secure aggregation messages of `/edge-mesh/fedavg/1.0.0` (types
 * 20-27, byte layout in docs/protocols.md): control frames like the others,
 * whose binary fields (X25519 keys, share ciphertexts, Shamir shares) travel
 * as standard base64 strings of an exact decoded length, and whose lists are
 * bounded by the SecAgg+ degree (`MAX_SECAGG_NEIGHBOURS`) or the round's size
 * (`MAX_SECAGG_CLIENTS`), so every message fits a 16 KiB control frame.
 * The masked input (SECAGG_MASKED) is followed by a weight record holding
 * one int32 tensor, the masked vector (its b-bit values packed when the
 * setup named `ringBits`).
 *
 * Every request names its round by `runId`, `round`, `attempt` and
 * `clientIndex`: a participant keeps one session per (coordinator, those).
 */
import {
  MAX_SECAGG_BOUND, MAX_SECAGG_CLIENTS, MAX_SECAGG_NEIGHBOURS, MAX_SECAGG_TOTAL_WEIGHT, SECAGG_KEY_BYTES, SECAGG_SHARE_CIPHERTEXT_BYTES
} from '../../privacy/secagg/constants.js'
import { SHARE_BYTES } from '../../privacy/secagg/shamir.js'
import { RUN_ID_PATTERN } from './constants.js'
import type { SecAggConfig } from '../../privacy/secagg/messages.js'
import type { AnnounceMessage, Field, Schema } from './messages.js'

/** Message type codes 20-27 (federated types 20-29 belong to secure aggregation). */
export const SecAggMessageType = {
  'secagg-setup': 20,
  'secagg-keys': 21,
  'secagg-neighbours': 22,
  'secagg-shares': 23,
  'secagg-inbox': 24,
  'secagg-masked': 25,
  'secagg-unmask': 26,
  'secagg-reveal': 27
} as const

/** Which round of which client a request is about. */
export interface SecAggRoundRef {
  runId: string
  round: number
  attempt: number
  clientIndex: number
}

/**
 * Stage 0 request: train this round (the fields of ANNOUNCE) and join its
 * secure aggregation as client `id` of `clients`, with the SecAgg+ graph and
 * fixed-point settings every client of the round shares.
 */
export interface SecAggSetupMessage extends Omit<AnnounceMessage, 'type' | 'globalModelId'>, Omit<SecAggConfig, 'ids'> {
  type: 'secagg-setup'
  /** This client's id in the round (1..clients). */
  id: number
  /** Clients of the round, ids 1..clients. */
  clients: number
  /** Longest the participant keeps the session between two stages, ms. */
  stageTimeoutMs: number
  /** Distributed DP (both or neither): clip the delta to this L2 norm, add N(0, dpNoiseStd^2) per value, mask with weight 1. */
  dpClipNorm?: number
  dpNoiseStd?: number
  /** Int8 in the mask ring (`privacy/secagg/ring.ts`): quantize to levels of bound/127, mask weight 1 in Z_{2^ringBits}, pack ringBits bits per value. */
  ringBits?: number
}
/** Stage 0 reply: the client's two X25519 public keys and the examples it declares (its masked weight may be no more). */
export interface SecAggKeysMessage { type: 'secagg-keys', numExamples: number, cPk: Uint8Array, sPk: Uint8Array }
/** Stage 1 request: the public keys of the client's neighbours that advertised. */
export interface SecAggNeighboursMessage extends SecAggRoundRef { type: 'secagg-neighbours', keys: Array<{ id: number, cPk: Uint8Array, sPk: Uint8Array }> }
/** Stage 1 reply: one encrypted share message per neighbour. */
export interface SecAggSharesMessage { type: 'secagg-shares', shares: Array<{ to: number, ciphertext: Uint8Array }> }
/** Stage 2 request: the share ciphertexts addressed to the client; answered once its training is done. */
export interface SecAggInboxMessage extends SecAggRoundRef { type: 'secagg-inbox', shares: Array<{ from: number, ciphertext: Uint8Array }> }
/** Stage 2 reply: training metrics, followed by the masked vector as a weight record of `weightBytes`. */
export interface SecAggMaskedMessage { type: 'secagg-masked', loss: number, accuracy: number, trainMs: number, weightBytes: number }
/** Stage 3 request: who sent a masked input (U3) and who shared keys but did not (dropped). */
export interface SecAggUnmaskMessage extends SecAggRoundRef { type: 'secagg-unmask', survivors: number[], dropped: number[] }
/** Stage 3 reply: self-mask seed shares of surviving neighbours, mask-key shares of dropped ones (66-byte big-endian field elements). */
export interface SecAggRevealMessage { type: 'secagg-reveal', selfShares: Array<{ of: number, y: Uint8Array }>, keyShares: Array<{ of: number, y: Uint8Array }> }

export type SecAggMessage =
  | SecAggSetupMessage | SecAggKeysMessage | SecAggNeighboursMessage | SecAggSharesMessage
  | SecAggInboxMessage | SecAggMaskedMessage | SecAggUnmaskMessage | SecAggRevealMessage

/** The requests a participant answers. */
export type SecAggRequest = SecAggSetupMessage | SecAggNeighboursMessage | SecAggInboxMessage | SecAggUnmaskMessage

const U32 = 0xFFFFFFFF
const clientId: Field = { kind: 'int', min: 1, max: MAX_SECAGG_CLIENTS }
const key: Field = { kind: 'bytes', length: SECAGG_KEY_BYTES }
const ciphertext: Field = { kind: 'bytes', length: SECAGG_SHARE_CIPHERTEXT_BYTES }
const share: Field = { kind: 'bytes', length: SHARE_BYTES }
const ref: Schema = {
  runId: { kind: 'string', max: 64, pattern: RUN_ID_PATTERN },
  round: { kind: 'int', min: 1, max: U32 },
  attempt: { kind: 'int', min: 1, max: U32 },
  clientIndex: { kind: 'int', min: 0, max: 1023 }
}
const neighbourList = (item: Schema): Field => ({ kind: 'list', maxItems: MAX_SECAGG_NEIGHBOURS, item })
const idList: Field = { kind: 'ints', maxItems: MAX_SECAGG_CLIENTS, min: 1, max: MAX_SECAGG_CLIENTS }

/** The header schemas of types 20-27 (SECAGG_SETUP's own fields only). */
export const SECAGG_SCHEMAS: Record<keyof typeof SecAggMessageType, Schema> = {
  // plus the training fields of ANNOUNCE, added by messages.ts (one schema for both)
  'secagg-setup': {
    clientIndex: ref.clientIndex,
    id: clientId,
    clients: { kind: 'int', min: 2, max: MAX_SECAGG_CLIENTS },
    degree: { kind: 'int', min: 1, max: MAX_SECAGG_NEIGHBOURS },
    threshold: { kind: 'int', min: 1, max: MAX_SECAGG_NEIGHBOURS },
    graphSeed: { kind: 'int', min: 0, max: U32 },
    vectorLength: { kind: 'int', min: 1, max: 64 * 1024 * 1024 },
    bound: { kind: 'number', min: Number.MIN_VALUE, max: MAX_SECAGG_BOUND },
    maxTotalWeight: { kind: 'int', min: 1, max: MAX_SECAGG_TOTAL_WEIGHT },
    stageTimeoutMs: { kind: 'int', min: 1, max: 600_000 },
    dpClipNorm: { kind: 'number', min: Number.MIN_VALUE, max: 1e6, optional: true },
    dpNoiseStd: { kind: 'number', min: 0, max: 1e6, optional: true },
    ringBits: { kind: 'int', min: 9, max: 31, optional: true }
  },
  'secagg-keys': { numExamples: { kind: 'int', min: 0, max: U32 }, cPk: key, sPk: key },
  'secagg-neighbours': { ...ref, keys: neighbourList({ id: clientId, cPk: key, sPk: key }) },
  'secagg-shares': { shares: neighbourList({ to: clientId, ciphertext }) },
  'secagg-inbox': { ...ref, shares: neighbourList({ from: clientId, ciphertext }) },
  'secagg-masked': { loss: { kind: 'metric' }, accuracy: { kind: 'metric' }, trainMs: { kind: 'number', min: 0, max: 1e12 }, weightBytes: { kind: 'int', min: 1, max: Number.MAX_SAFE_INTEGER } },
  'secagg-unmask': { ...ref, survivors: idList, dropped: idList },
  'secagg-reveal': { selfShares: neighbourList({ of: clientId, y: share }), keyShares: neighbourList({ of: clientId, y: share }) }
}
