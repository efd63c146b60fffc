/**
 * Control frames of `/edge-mesh/fedavg/1.0.0` (byte layout in docs/protocols.md):
 *
 * ```
 * control = version u8 (1) | type u8 | header: a UTF-8 JSON object
 * ```
 *
 * The header is small (at most 16 KiB with the two leading bytes) and is
 * checked field by field against the message type's schema: unknown keys are
 * ignored, a missing or mistyped known key is an `InvalidMessageError`.
 * Weights never travel in JSON: a message with `weightBytes` is followed by
 * that many bytes of a binary weight record in data frames.
 */
import { InvalidMessageError, MessageTooLargeError, ProtocolError } from '../../../errors.js'
import { CONTROL_VERSION, MAX_CONTROL_BYTES, RUN_ID_PATTERN } from './constants.js'
import { SECAGG_SCHEMAS, SecAggMessageType } from './secagg-messages.js'
import type { SecAggMessage } from './secagg-messages.js'

/** Message type codes (the second byte of a control frame). */
export const MessageType = {
  hello: 1,
  'hello-ok': 2,
  announce: 3,
  accept: 4,
  pull: 5,
  weights: 6,
  push: 7,
  ack: 8,
  start: 9,
  started: 10,
  cancel: 11,
  error: 15,
  ...SecAggMessageType
} as const

export type MessageName = keyof typeof MessageType

export interface HelloMessage { type: 'hello' }
/** Examples held by each of the node's virtual clients, by client index. */
export interface HelloOkMessage {
  type: 'hello-ok'
  clients: number[]
  /** The data key of each virtual client (`datasetKey`, u32), by index; optional (appended). */
  keys?: number[]
}
export interface AnnounceMessage {
  type: 'announce'
  runId: string
  round: number
  /** The coordinator's counter of requests to this client in this round (retries increment it). */
  attempt: number
  /** Aggregations that produced the global weights to pull. */
  version: number
  globalModelId: string
  baseModelId: string
  clientIndex: number
  epochs: number
  batchSize: number
  learningRate: number
  proximalMu: number
  seed: number
  /** Time the participant has until its update must have arrived, ms. */
  deadlineMs: number
  /** Optional (privacy-wire): how the update is compressed this round; absent = a float32 weight record. */
  compression?: 'int8' | 'topk'
  /** Top-k: fraction of each layer's values to send this round (warm-up applied by the coordinator). */
  topkDensity?: number
  /** Top-k: DGC momentum correction factor (absent = 0, plain error feedback). */
  topkMomentum?: number
  /** Top-k: L2 clip of the round's delta before accumulation (absent = 0, off). */
  topkClipNorm?: number
  /** Top-k: exponent a of the stale-residual discount `(1 + τ)^−a` (absent = 0, none). */
  topkStaleness?: number
  /** Local DP: L2 bound of the update; present with `localDpNoise` when the run uses local DP. */
  localDpClipNorm?: number
  /** Local DP: noise multiplier z (noise std z · localDpClipNorm, added by the participant). */
  localDpNoise?: number
  /** Head runs (all four or none): the packaged model whose frozen base computes features locally (a catalog name, never a path). */
  featureBase?: string
  /** The layer the base is cut after. */
  featureLayer?: string
  /** Content id of the cut base; the participant's own cut must match it. */
  featureBaseId?: string
  /** Examples of the client to compute features of and train the head on. */
  featureExamples?: number
}
export interface AcceptMessage { type: 'accept', numExamples: number }
export interface PullMessage { type: 'pull', runId: string, version: number }
export interface WeightsMessage { type: 'weights', runId: string, version: number, weightBytes: number }
export interface PushMessage {
  type: 'push'
  runId: string
  round: number
  attempt: number
  version: number
  clientIndex: number
  numExamples: number
  loss: number
  accuracy: number
  trainMs: number
  weightBytes: number
  /** Optional (privacy-wire): `compressed` when the `weightBytes` that follow are a compressed update, not a weight record. */
  encoding?: 'compressed'
}
export interface AckMessage { type: 'ack' }
/** `spec` is a run spec as `POST /federated/runs` takes it; the service validates it. */
export interface StartMessage { type: 'start', spec: Record<string, unknown> }
export interface StartedMessage { type: 'started', runId: string, coordinator: string }
/** Stop a run: from its coordinator to participants, or from a node trusted to START to the coordinator. Answered by ACK. */
export interface CancelMessage { type: 'cancel', runId: string }
export interface ErrorMessage { type: 'error', name: string, message: string }

export type FedMessage =
  | HelloMessage | HelloOkMessage | AnnounceMessage | AcceptMessage | PullMessage | WeightsMessage
  | PushMessage | AckMessage | StartMessage | StartedMessage | CancelMessage | ErrorMessage
  | SecAggMessage

/** How one header field is checked. */
export type Field =
  | { kind: 'string', max: number, pattern?: RegExp }
  | { kind: 'int', min: number, max: number }
  | { kind: 'number', min: number, max: number }
  /** A finite number, or null for a non-finite one (JSON has no NaN). */
  | { kind: 'metric' }
  | { kind: 'ints', maxItems: number, min: number, max: number }
  | { kind: 'object' }
  /** Standard base64 (with padding) of exactly `length` bytes; decoded to a Uint8Array. */
  | { kind: 'bytes', length: number }
  /** A list of at most `maxItems` objects, each checked against `item`. */
  | { kind: 'list', maxItems: number, item: Schema }

/** The fields of one message type. */
export type Schema = Record<string, Field & { optional?: boolean }>

const U32 = 0xFFFFFFFF
const MAX_INT = Number.MAX_SAFE_INTEGER
const runId: Field = { kind: 'string', max: 64, pattern: RUN_ID_PATTERN }
const modelId: Field = { kind: 'string', max: 128 }
const round: Field = { kind: 'int', min: 1, max: U32 }
const version: Field = { kind: 'int', min: 0, max: U32 }
const clientIndex: Field = { kind: 'int', min: 0, max: 1023 }
const weightBytes: Field = { kind: 'int', min: 1, max: MAX_INT }

const SCHEMAS: Record<MessageName, Schema> = {
  hello: {},
  'hello-ok': { clients: { kind: 'ints', maxItems: 1024, min: 0, max: U32 }, keys: { kind: 'ints', maxItems: 1024, min: 0, max: U32, optional: true } },
  announce: {
    runId, round, attempt: round, version, globalModelId: modelId, baseModelId: modelId, clientIndex,
    epochs: { kind: 'int', min: 1, max: 10_000 },
    batchSize: { kind: 'int', min: 0, max: U32 },
    learningRate: { kind: 'number', min: Number.MIN_VALUE, max: 1e6 },
    proximalMu: { kind: 'number', min: 0, max: 1e9 },
    seed: { kind: 'int', min: 0, max: U32 },
    deadlineMs: { kind: 'int', min: 1, max: 7 * 24 * 3600 * 1000 },
    compression: { kind: 'string', max: 8, pattern: /^(int8|topk)$/, optional: true },
    topkDensity: { kind: 'number', min: Number.MIN_VALUE, max: 1, optional: true },
    topkMomentum: { kind: 'number', min: 0, max: 0.999999, optional: true },
    topkClipNorm: { kind: 'number', min: 0, max: 1e6, optional: true },
    topkStaleness: { kind: 'number', min: 0, max: 16, optional: true },
    localDpClipNorm: { kind: 'number', min: Number.MIN_VALUE, max: 1e6, optional: true },
    localDpNoise: { kind: 'number', min: 0, max: 1e6, optional: true },
    featureBase: { kind: 'string', max: 64, pattern: /^[a-z][a-z0-9-]*:[a-z0-9_-]+$/, optional: true },
    featureLayer: { kind: 'string', max: 128, pattern: /^[A-Za-z0-9_./-]+$/, optional: true },
    featureBaseId: { kind: 'string', max: 128, pattern: /^sha256-[0-9a-f]{64}$/, optional: true },
    featureExamples: { kind: 'int', min: 1, max: U32, optional: true }
  },
  accept: { numExamples: { kind: 'int', min: 0, max: U32 } },
  pull: { runId, version },
  weights: { runId, version, weightBytes },
  push: {
    runId, round, attempt: round, version, clientIndex,
    numExamples: { kind: 'int', min: 1, max: U32 },
    loss: { kind: 'metric' },
    accuracy: { kind: 'metric' },
    trainMs: { kind: 'number', min: 0, max: 1e12 },
    weightBytes,
    encoding: { kind: 'string', max: 16, pattern: /^compressed$/, optional: true }
  },
  ack: {},
  start: { spec: { kind: 'object' } },
  started: { runId, coordinator: { kind: 'string', max: 128 } },
  cancel: { runId },
  error: { name: { kind: 'string', max: 64 }, message: { kind: 'string', max: 2048 } },
  ...SECAGG_SCHEMAS
}

// SECAGG_SETUP asks for training as ANNOUNCE does: the same required fields (not the global model id nor the head fields)
SCHEMAS['secagg-setup'] = {
  ...Object.fromEntries(Object.entries(SCHEMAS.announce).filter(([key, field]) => key !== 'globalModelId' && field.optional !== true)),
  ...SCHEMAS['secagg-setup']
}

const NAMES_BY_CODE = new Map<number, MessageName>(Object.entries(MessageType).map(([k, v]) => [v, k as MessageName]))
const utf8 = new TextDecoder('utf-8', { fatal: true })

function checkField (key: string, field: Field, value: unknown): unknown {
  const bad = (why: string): never => { throw new InvalidMessageError(`header field "${key}" ${why}`) }
  switch (field.kind) {
    case 'string':
      if (typeof value !== 'string') bad('must be a string')
      if ((value as string).length > field.max) bad(`is longer than ${field.max}`)
      if (field.pattern !== undefined && !field.pattern.test(value as string)) bad('has an invalid format')
      return value
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < field.min || value > field.max) bad(`must be an integer in ${field.min}..${field.max}`)
      return value
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < field.min || value > field.max) bad(`must be a number in ${field.min}..${field.max}`)
      return value
    case 'metric':
      if (value === null) return Number.NaN
      if (typeof value !== 'number' || !Number.isFinite(value)) bad('must be a finite number or null')
      return value
    case 'ints':
      if (!Array.isArray(value) || value.length > field.maxItems) bad(`must be a list of at most ${field.maxItems} integers`)
      for (const v of value as unknown[]) {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < field.min || v > field.max) bad(`must hold integers in ${field.min}..${field.max}`)
      }
      return [...(value as number[])]
    case 'object':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) bad('must be an object')
      return value
    case 'bytes':
      return checkBase64(value, field.length, bad)
    case 'list':
      if (!Array.isArray(value) || value.length > field.maxItems) bad(`must be a list of at most ${field.maxItems} objects`)
      return (value as unknown[]).map((item) => checkObject(item, field.item, (why) => bad(`holds an item that ${why}`)))
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Canonical standard base64 of exactly `length` bytes, decoded. */
function checkBase64 (value: unknown, length: number, bad: (why: string) => never): Uint8Array {
  if (typeof value !== 'string' || value.length !== 4 * Math.ceil(length / 3) || !BASE64.test(value)) bad(`must be base64 of ${length} bytes`)
  const bytes = Buffer.from(value as string, 'base64')
  if (bytes.length !== length || bytes.toString('base64') !== value) bad(`must be canonical base64 of ${length} bytes`)
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
}

/** Check the known fields of `header` against `schema`; unknown keys are dropped. */
function checkObject (header: unknown, schema: Schema, bad: (why: string) => never): Record<string, unknown> {
  if (header === null || typeof header !== 'object' || Array.isArray(header)) bad('is not a JSON object')
  const out: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(schema)) {
    const value = Object.prototype.hasOwnProperty.call(header, key) ? (header as Record<string, unknown>)[key] : undefined
    if (value === undefined) {
      if (field.optional === true) continue
      bad(`lacks "${key}"`)
    }
    out[key] = checkField(key, field, value)
  }
  return out
}

/** JSON of a header: non-finite numbers become null, bytes become base64. */
function headerJson (fields: Record<string, unknown>): string {
  return JSON.stringify(fields, (_k, v) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return null
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')
    return v
  })
}

/** Encode a control frame. Non-finite metrics become null. Throws MessageTooLargeError over 16 KiB. */
export function encodeMessage (message: FedMessage): Uint8Array {
  const { type, ...fields } = message
  const json = headerJson(fields)
  const body = new TextEncoder().encode(json)
  if (body.length + 2 > MAX_CONTROL_BYTES) throw new MessageTooLargeError(`${type} header of ${body.length} bytes exceeds ${MAX_CONTROL_BYTES - 2}`)
  const out = new Uint8Array(body.length + 2)
  out[0] = CONTROL_VERSION
  out[1] = MessageType[type]
  out.set(body, 2)
  return out
}

/** Decode and validate a control frame; throws InvalidMessageError or MessageTooLargeError. */
export function decodeMessage (frame: Uint8Array): FedMessage {
  if (frame.length > MAX_CONTROL_BYTES) throw new MessageTooLargeError(`control frame of ${frame.length} bytes exceeds ${MAX_CONTROL_BYTES}`)
  if (frame.length < 3) throw new InvalidMessageError('control frame shorter than 3 bytes')
  if (frame[0] !== CONTROL_VERSION) throw new InvalidMessageError(`unsupported control frame version ${frame[0]}`)
  const type = NAMES_BY_CODE.get(frame[1])
  if (type === undefined) throw new InvalidMessageError(`unknown message type ${frame[1]}`)
  let header: unknown
  try {
    header = JSON.parse(utf8.decode(frame.subarray(2)))
  } catch {
    throw new InvalidMessageError(`${type} header is not UTF-8 JSON`)
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new InvalidMessageError(`${type} header is not a JSON object`)
  const out = checkObject(header, SCHEMAS[type], (why) => { throw new InvalidMessageError(`${type} header ${why}`) })
  out.type = type
  return out as unknown as FedMessage
}

/** Narrow a decoded message to the expected type, or throw: an error message becomes its named error. */
export function expectMessage<N extends MessageName> (message: FedMessage, type: N, toError: (m: ErrorMessage) => Error): Extract<FedMessage, { type: N }> {
  if (message.type === type) return message as Extract<FedMessage, { type: N }>
  if (message.type === 'error') throw toError(message)
  throw new ProtocolError(`expected a ${type} message, got ${message.type}`)
}
