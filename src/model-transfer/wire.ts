/**
 * Control frames of `/edge-mesh/model/1.0.0` (docs/protocols.md): the request
 * (a content id) and the response header (the artifact sizes, or an error code
 * and message). The artifact bytes follow the header as raw data frames.
 * Integers are big-endian. Decoders throw InvalidMessageError.
 */
import { InvalidMessageError } from '../errors.js'
import { MAX_ERROR_MESSAGE_BYTES, MAX_MODEL_ID_BYTES } from '../wire/constants.js'
import { MODEL_WIRE_VERSION } from './constants.js'
import { errorToCode } from '../wire/error-codes.js'
import { FrameCursor } from '../wire/frame-cursor.js'

/** Message type byte of model transfer control frames. */
export const ModelMessageType = { Request: 1, Found: 2, Error: 3 } as const

/** The header of a response: the sizes of the two artifacts, or a failure. */
export type ModelHeader =
  | { type: 'found', modelJsonBytes: number, weightsBytes: number }
  | { type: 'error', code: number, message: string }

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

function utf8 (bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes)
  } catch {
    throw new InvalidMessageError(`${what} is not valid UTF-8`)
  }
}

function open (cursor: FrameCursor): number {
  const version = cursor.u8('version')
  if (version !== MODEL_WIRE_VERSION) throw new InvalidMessageError(`unsupported version ${version}`)
  return cursor.u8('message type')
}

/** `version u8, type u8 = 1, idLength u8, id` */
export function encodeModelRequest (modelId: string): Uint8Array {
  const id = encoder.encode(modelId)
  if (id.length === 0 || id.length > MAX_MODEL_ID_BYTES) throw new InvalidMessageError(`model id must be 1 to ${MAX_MODEL_ID_BYTES} UTF-8 bytes`)
  return Uint8Array.from([MODEL_WIRE_VERSION, ModelMessageType.Request, id.length, ...id])
}

export function decodeModelRequest (bytes: Uint8Array): string {
  const cursor = new FrameCursor(bytes)
  if (open(cursor) !== ModelMessageType.Request) throw new InvalidMessageError('expected a model request')
  const length = cursor.u8('model id length')
  if (length === 0 || length > MAX_MODEL_ID_BYTES) throw new InvalidMessageError(`model id length ${length} outside 1..${MAX_MODEL_ID_BYTES}`)
  const modelId = utf8(cursor.take(length, 'model id'), 'model id')
  cursor.end('the model id')
  return modelId
}

/** `version u8, type u8 = 2, modelJsonBytes u32, weightsBytes u32` */
export function encodeFoundHeader (modelJsonBytes: number, weightsBytes: number): Uint8Array {
  const out = new Uint8Array(10)
  const view = new DataView(out.buffer)
  view.setUint8(0, MODEL_WIRE_VERSION)
  view.setUint8(1, ModelMessageType.Found)
  view.setUint32(2, modelJsonBytes)
  view.setUint32(6, weightsBytes)
  return out
}

/** `version u8, type u8 = 3, code u16, messageLength u16, message` */
export function encodeErrorHeader (err: unknown): Uint8Array {
  let message = encoder.encode(err instanceof Error ? err.message : String(err))
  if (message.length > MAX_ERROR_MESSAGE_BYTES) {
    let end = MAX_ERROR_MESSAGE_BYTES
    while (end > 0 && (message[end] & 0xc0) === 0x80) end--
    message = message.subarray(0, end)
  }
  const out = new Uint8Array(6 + message.length)
  const view = new DataView(out.buffer)
  view.setUint8(0, MODEL_WIRE_VERSION)
  view.setUint8(1, ModelMessageType.Error)
  view.setUint16(2, errorToCode(err))
  view.setUint16(4, message.length)
  out.set(message, 6)
  return out
}

export function decodeModelHeader (bytes: Uint8Array): ModelHeader {
  const cursor = new FrameCursor(bytes)
  const type = open(cursor)
  if (type === ModelMessageType.Found) {
    const modelJsonBytes = cursor.u32('model.json size')
    const weightsBytes = cursor.u32('weights size')
    cursor.end('the sizes')
    return { type: 'found', modelJsonBytes, weightsBytes }
  }
  if (type !== ModelMessageType.Error) throw new InvalidMessageError(`expected a model header, got message type ${type}`)
  const code = cursor.u16('error code')
  const length = cursor.u16('error message length')
  if (length > MAX_ERROR_MESSAGE_BYTES) throw new InvalidMessageError('error message too long')
  const message = utf8(cursor.take(length, 'error message'), 'error message')
  cursor.end('the error message')
  return { type: 'error', code, message }
}
