/**
 * Binary codec of `/edge-mesh/infer/1.0.0`: one request frame and one response
 * frame (a result or an error) per stream. The byte layout is specified in
 * docs/protocols.md; integers are big-endian, tensor elements little-endian.
 *
 * Decoders validate every field and throw InvalidMessageError or
 * MessageTooLargeError; they never read past the frame and never allocate more
 * than the frame's own size. Encoders return the frame as a Uint8ArrayList whose
 * tensor chunks are views on the callers' arrays (no copy).
 */
import { InvalidMessageError, MessageTooLargeError } from '../errors.js'
import { Uint8ArrayList } from '../wire/framing.js'
import {
  DEFAULT_MAX_INFER_FRAME_BYTES, INFER_WIRE_VERSION, MAX_ERROR_MESSAGE_BYTES, MAX_MODEL_ID_BYTES
} from './constants.js'
import { errorToCode } from '../wire/error-codes.js'
import { checkTensors, decodeTensors, encodeTensor, FrameCursor, tensorWireBytes } from './tensor-wire.js'
import type { TensorData } from '../model/types.js'
import type { ServedResult } from './types.js'

/** Message type byte (second byte of every frame). */
export const MessageType = { Request: 1, Result: 2, Error: 3 } as const

/** A decoded inference request. */
export interface InferRequest {
  /** Chosen by the caller, echoed in the response. */
  requestId: bigint
  /** Time left to answer when the request was sent, ms. */
  deadlineMs: number
  modelId: string
  inputs: TensorData[]
}

/** A decoded successful response. */
export interface InferResultFrame extends ServedResult {
  type: 'result'
  requestId: bigint
}

/** A decoded error response. */
export interface InferErrorFrame {
  type: 'error'
  requestId: bigint
  /** Wire error code (see `error-codes.ts`). */
  code: number
  message: string
}

export type InferResponse = InferResultFrame | InferErrorFrame

export interface CodecOptions {
  /** Largest frame produced or accepted, bytes. @default 8 MiB */
  maxFrameBytes?: number
}

const REQUEST_FIXED_BYTES = 1 + 1 + 8 + 4 + 1 + 1
const RESULT_FIXED_BYTES = 1 + 1 + 8 + 4 + 4 + 2 + 1
const ERROR_FIXED_BYTES = 1 + 1 + 8 + 2 + 2
const MAX_U32 = 0xffff_ffff
const MAX_U64 = (1n << 64n) - 1n
const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true })

/** A fresh random 64-bit request id. */
export function randomRequestId (): bigint {
  return new DataView(crypto.getRandomValues(new Uint8Array(8)).buffer).getBigUint64(0)
}

/** A number as a u32: rounded, negatives and NaN as 0, capped at 2^32 - 1. */
export function clampU32 (value: number): number {
  if (!Number.isFinite(value) || value < 0) return 0
  return Math.min(Math.round(value), MAX_U32)
}

/** Throw MessageTooLargeError when a frame exceeds `maxFrameBytes`. */
export function checkSize (size: number, options: CodecOptions): void {
  const max = options.maxFrameBytes ?? DEFAULT_MAX_INFER_FRAME_BYTES
  if (size > max) throw new MessageTooLargeError(`frame of ${size} bytes exceeds ${max}`)
}

/** A model id as 1 to 128 UTF-8 bytes, or InvalidMessageError. */
export function modelIdBytes (modelId: string): Uint8Array {
  const bytes = utf8Encoder.encode(modelId)
  if (bytes.length === 0 || bytes.length > MAX_MODEL_ID_BYTES) throw new InvalidMessageError(`model id must be 1 to ${MAX_MODEL_ID_BYTES} UTF-8 bytes`)
  return bytes
}

function checkRequestId (requestId: bigint): void {
  if (requestId < 0n || requestId > MAX_U64) throw new InvalidMessageError('request id must be an unsigned 64-bit integer')
}

/** Append a tensor count and the tensors to a frame whose fixed part is `head`. */
function withTensors (head: Uint8Array, tensors: TensorData[]): Uint8ArrayList {
  const out = new Uint8ArrayList(head)
  for (const tensor of tensors) out.append(...encodeTensor(tensor, out.byteLength))
  return out
}

function tensorsBytes (tensors: TensorData[], offset: number): number {
  let size = offset
  for (const tensor of tensors) size += tensorWireBytes(tensor, size)
  return size - offset
}

/** Encode a request frame. Throws InvalidTensorError, InvalidMessageError or MessageTooLargeError. */
export function encodeRequest (request: InferRequest, options: CodecOptions = {}): Uint8ArrayList {
  checkRequestId(request.requestId)
  checkTensors(request.inputs, 'input')
  const id = modelIdBytes(request.modelId)
  const headBytes = REQUEST_FIXED_BYTES + id.length
  checkSize(headBytes + tensorsBytes(request.inputs, headBytes), options)
  const head = new Uint8Array(headBytes)
  const view = new DataView(head.buffer)
  view.setUint8(0, INFER_WIRE_VERSION)
  view.setUint8(1, MessageType.Request)
  view.setBigUint64(2, request.requestId)
  view.setUint32(10, clampU32(request.deadlineMs))
  view.setUint8(14, id.length)
  head.set(id, 15)
  view.setUint8(15 + id.length, request.inputs.length)
  return withTensors(head, request.inputs)
}

/** Encode a result frame; times travel as whole microseconds. */
export function encodeResult (requestId: bigint, result: ServedResult, options: CodecOptions = {}): Uint8ArrayList {
  checkRequestId(requestId)
  checkTensors(result.outputs, 'output')
  checkSize(RESULT_FIXED_BYTES + tensorsBytes(result.outputs, RESULT_FIXED_BYTES), options)
  const head = new Uint8Array(RESULT_FIXED_BYTES)
  const view = new DataView(head.buffer)
  view.setUint8(0, INFER_WIRE_VERSION)
  view.setUint8(1, MessageType.Result)
  view.setBigUint64(2, requestId)
  view.setUint32(10, clampU32(result.queueMs * 1000))
  view.setUint32(14, clampU32(result.computeMs * 1000))
  view.setUint16(18, Math.max(1, Math.min(0xffff, Math.round(result.batchSize))))
  view.setUint8(20, result.outputs.length)
  return withTensors(head, result.outputs)
}

/** UTF-8 bytes of a message cut to `max` bytes without splitting a character. */
export function truncatedUtf8 (message: string, max: number): Uint8Array {
  const bytes = utf8Encoder.encode(message)
  if (bytes.length <= max) return bytes
  let end = max
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--
  return bytes.subarray(0, end)
}

/** Encode an error frame for any thrown value; the code comes from the error's name. */
export function encodeError (requestId: bigint, err: unknown): Uint8Array {
  const message = truncatedUtf8(err instanceof Error ? err.message : String(err), MAX_ERROR_MESSAGE_BYTES)
  const out = new Uint8Array(ERROR_FIXED_BYTES + message.length)
  const view = new DataView(out.buffer)
  view.setUint8(0, INFER_WIRE_VERSION)
  view.setUint8(1, MessageType.Error)
  view.setBigUint64(2, requestId >= 0n && requestId <= MAX_U64 ? requestId : 0n)
  view.setUint16(10, errorToCode(err))
  view.setUint16(12, message.length)
  out.set(message, ERROR_FIXED_BYTES)
  return out
}

/** Check the frame size and the version byte (1.0.0's, or `expected`); returns the message type. */
export function openFrame (cursor: FrameCursor, options: CodecOptions, expected = INFER_WIRE_VERSION): number {
  checkSize(cursor.bytes.length, options)
  const version = cursor.u8('version')
  if (version !== expected) throw new InvalidMessageError(`unsupported version ${version}`)
  return cursor.u8('message type')
}

/** UTF-8 text, or InvalidMessageError naming `what`. */
export function decodeUtf8 (bytes: Uint8Array, what: string): string {
  try {
    return utf8Decoder.decode(bytes)
  } catch {
    throw new InvalidMessageError(`${what} is not valid UTF-8`)
  }
}

/** Decode a request frame. */
export function decodeRequest (bytes: Uint8Array, options: CodecOptions = {}): InferRequest {
  const cursor = new FrameCursor(bytes)
  const type = openFrame(cursor, options)
  if (type !== MessageType.Request) throw new InvalidMessageError(`expected a request, got message type ${type}`)
  const requestId = cursor.u64('request id')
  const deadlineMs = cursor.u32('deadline')
  const idLength = cursor.u8('model id length')
  if (idLength === 0 || idLength > MAX_MODEL_ID_BYTES) throw new InvalidMessageError(`model id length ${idLength} outside 1..${MAX_MODEL_ID_BYTES}`)
  const modelId = decodeUtf8(cursor.take(idLength, 'model id'), 'model id')
  const inputs = decodeTensors(cursor, 'input')
  cursor.end('the last input')
  return { requestId, deadlineMs, modelId, inputs }
}

/** Decode a response frame: a result or an error. */
export function decodeResponse (bytes: Uint8Array, options: CodecOptions = {}): InferResponse {
  const cursor = new FrameCursor(bytes)
  const type = openFrame(cursor, options)
  const requestId = cursor.u64('request id')
  if (type === MessageType.Error) {
    const code = cursor.u16('error code')
    const length = cursor.u16('error message length')
    if (length > MAX_ERROR_MESSAGE_BYTES) throw new InvalidMessageError(`error message of ${length} bytes exceeds ${MAX_ERROR_MESSAGE_BYTES}`)
    const message = decodeUtf8(cursor.take(length, 'error message'), 'error message')
    cursor.end('the error message')
    return { type: 'error', requestId, code, message }
  }
  if (type !== MessageType.Result) throw new InvalidMessageError(`expected a response, got message type ${type}`)
  const queueMs = cursor.u32('queue time') / 1000
  const computeMs = cursor.u32('compute time') / 1000
  const batchSize = cursor.u16('batch size')
  if (batchSize === 0) throw new InvalidMessageError('batch size 0')
  const outputs = decodeTensors(cursor, 'output')
  cursor.end('the last output')
  return { type: 'result', requestId, queueMs, computeMs, batchSize, outputs }
}

/**
 * The request id of a frame that may be malformed, so an error reply can still
 * name the request; 0 when the frame is too short to hold one.
 */
/**
 * The request id in the first bytes of a stream (length prefix included), for
 * the error frame of a request that did not arrive whole: 0 unless the varint
 * prefix and 10 bytes of the frame arrived.
 */
export function requestIdFromStreamHead (head: Uint8Array): bigint {
  let prefix = 0
  while (prefix < head.length && prefix < 8 && (head[prefix] & 0x80) !== 0) prefix++
  return prefix < head.length && prefix < 8 ? peekRequestId(head.subarray(prefix + 1)) : 0n
}

export function peekRequestId (bytes: Uint8Array): bigint {
  if (bytes.length < 10) return 0n
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(2)
}
