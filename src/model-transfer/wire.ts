/**
 * Control frames of `/edge-mesh/model/1.0.0` (docs/protocols.md): the request
 * (a content id) and the response header (the artifact sizes and the model's
 * name, or an error code and message), and the name query (which models a peer
 * holds, by id and name). The artifact bytes follow the header as raw data frames.
 * Integers are big-endian. Decoders throw InvalidMessageError.
 */
import { InvalidMessageError } from '../errors.js'
import { MAX_ERROR_MESSAGE_BYTES, MAX_MODEL_ID_BYTES } from '../wire/constants.js'
import { MAX_LISTED_MODELS, MAX_MODEL_NAME_BYTES, MODEL_WIRE_VERSION } from './constants.js'
import { errorToCode } from '../wire/error-codes.js'
import { FrameCursor } from '../wire/frame-cursor.js'

/** Message type byte of model transfer control frames. */
export const ModelMessageType = { Request: 1, Found: 2, Error: 3, ListRequest: 4, List: 5 } as const

/** The header of a response: the sizes of the two artifacts (and the model's name, when the server sends one), or a failure. */
export type ModelHeader =
  | { type: 'found', modelJsonBytes: number, weightsBytes: number, name?: string }
  | { type: 'error', code: number, message: string }

/** What a caller asks on a model stream: one model's artifacts, or the list of models held. */
export type ModelQuery = { type: 'fetch', modelId: string } | { type: 'list' }

/** One model a peer holds, as the list answer names it. */
export interface ListedModel {
  id: string
  name: string
}

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

/** `name` as UTF-8 cut to at most `max` bytes at a character boundary. */
function boundedUtf8 (name: string, max: number): Uint8Array {
  const bytes = encoder.encode(name)
  if (bytes.length <= max) return bytes
  let end = max
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--
  return bytes.subarray(0, end)
}

export function decodeModelRequest (bytes: Uint8Array): string {
  const query = decodeModelQuery(bytes)
  if (query.type !== 'fetch') throw new InvalidMessageError('expected a model request')
  return query.modelId
}

/** `version u8, type u8 = 4`: which models do you hold? */
export function encodeListRequest (): Uint8Array {
  return Uint8Array.from([MODEL_WIRE_VERSION, ModelMessageType.ListRequest])
}

/** A request (type 1) or a list request (type 4). */
export function decodeModelQuery (bytes: Uint8Array): ModelQuery {
  const cursor = new FrameCursor(bytes)
  const type = open(cursor)
  if (type === ModelMessageType.ListRequest) {
    cursor.end('the list request')
    return { type: 'list' }
  }
  if (type !== ModelMessageType.Request) throw new InvalidMessageError(`expected a model request, got message type ${type}`)
  const length = cursor.u8('model id length')
  if (length === 0 || length > MAX_MODEL_ID_BYTES) throw new InvalidMessageError(`model id length ${length} outside 1..${MAX_MODEL_ID_BYTES}`)
  const modelId = utf8(cursor.take(length, 'model id'), 'model id')
  cursor.end('the model id')
  return { type: 'fetch', modelId }
}

/**
 * `version u8, type u8 = 2, modelJsonBytes u32, weightsBytes u32[, nameLength u8, name]`:
 * the name (at most 64 bytes) is appended when given; headers without it are still decoded.
 */
export function encodeFoundHeader (modelJsonBytes: number, weightsBytes: number, name?: string): Uint8Array {
  const nameBytes = name == null || name === '' ? undefined : boundedUtf8(name, MAX_MODEL_NAME_BYTES)
  const out = new Uint8Array(10 + (nameBytes == null ? 0 : 1 + nameBytes.length))
  const view = new DataView(out.buffer)
  view.setUint8(0, MODEL_WIRE_VERSION)
  view.setUint8(1, ModelMessageType.Found)
  view.setUint32(2, modelJsonBytes)
  view.setUint32(6, weightsBytes)
  if (nameBytes != null) {
    view.setUint8(10, nameBytes.length)
    out.set(nameBytes, 11)
  }
  return out
}

/** `version u8, type u8 = 5, count u8, count × (idLength u8, id, nameLength u8, name)`; at most 64 models, names cut to 64 bytes. */
export function encodeList (models: ListedModel[]): Uint8Array {
  const entries = models.slice(0, MAX_LISTED_MODELS).flatMap(m => {
    const id = encoder.encode(m.id)
    if (id.length === 0 || id.length > MAX_MODEL_ID_BYTES) return []
    return [{ id, name: boundedUtf8(m.name, MAX_MODEL_NAME_BYTES) }]
  })
  const out = new Uint8Array(3 + entries.reduce((n, e) => n + 2 + e.id.length + e.name.length, 0))
  out.set([MODEL_WIRE_VERSION, ModelMessageType.List, entries.length])
  let o = 3
  for (const e of entries) {
    out[o++] = e.id.length
    out.set(e.id, o); o += e.id.length
    out[o++] = e.name.length
    out.set(e.name, o); o += e.name.length
  }
  return out
}

export function decodeList (bytes: Uint8Array): ListedModel[] {
  const cursor = new FrameCursor(bytes)
  const type = open(cursor)
  if (type !== ModelMessageType.List) throw new InvalidMessageError(`expected a model list, got message type ${type}`)
  const count = cursor.u8('model count')
  if (count > MAX_LISTED_MODELS) throw new InvalidMessageError(`more than ${MAX_LISTED_MODELS} models listed`)
  const models: ListedModel[] = []
  for (let i = 0; i < count; i++) {
    const idLength = cursor.u8('model id length')
    if (idLength === 0 || idLength > MAX_MODEL_ID_BYTES) throw new InvalidMessageError(`model id length ${idLength} outside 1..${MAX_MODEL_ID_BYTES}`)
    const id = utf8(cursor.take(idLength, 'model id'), 'model id')
    const nameLength = cursor.u8('model name length')
    if (nameLength > MAX_MODEL_NAME_BYTES) throw new InvalidMessageError(`model name longer than ${MAX_MODEL_NAME_BYTES} bytes`)
    models.push({ id, name: utf8(cursor.take(nameLength, 'model name'), 'model name') })
  }
  cursor.end('the model list')
  return models
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
    if (cursor.remaining === 0) return { type: 'found', modelJsonBytes, weightsBytes }
    const nameLength = cursor.u8('model name length')
    if (nameLength > MAX_MODEL_NAME_BYTES) throw new InvalidMessageError(`model name longer than ${MAX_MODEL_NAME_BYTES} bytes`)
    const name = utf8(cursor.take(nameLength, 'model name'), 'model name')
    cursor.end('the model name')
    return { type: 'found', modelJsonBytes, weightsBytes, name }
  }
  if (type !== ModelMessageType.Error) throw new InvalidMessageError(`expected a model header, got message type ${type}`)
  const code = cursor.u16('error code')
  const length = cursor.u16('error message length')
  if (length > MAX_ERROR_MESSAGE_BYTES) throw new InvalidMessageError('error message too long')
  const message = utf8(cursor.take(length, 'error message'), 'error message')
  cursor.end('the error message')
  return { type: 'error', code, message }
}
