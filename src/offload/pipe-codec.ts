/**
 * Binary codec of `/edge-mesh/infer/1.1.0`: pipelined, id-tagged frames on one
 * long-lived stream per peer (docs/protocols.md gives the byte layout; header
 * integers big-endian, tensor elements little-endian).
 *
 * A request frame carries one or more requests for the same model whose
 * inputs have the same dtypes and per-example shapes (client-side coalescing):
 * each request is an entry (id, rows, deadline), and every input tensor is the
 * requests' inputs concatenated along axis 0. The server splits them back into
 * row ranges (views, no copy). Each request gets its own result or error frame,
 * in any order, carrying the server's load.
 *
 * Encoders return the frame as a Uint8ArrayList whose tensor chunks are views
 * on the callers' arrays (no copy). Decoders validate every field, never read
 * past the frame, and view tensor data in place when it is aligned.
 */
import { InvalidMessageError } from '../errors.js'
import { Uint8ArrayList } from '../wire/framing.js'
import { errorToCode } from '../wire/error-codes.js'
import { checkSize, clampU32 as u32, decodeUtf8 as utf8, modelIdBytes, openFrame as openVersioned, truncatedUtf8 } from './codec.js'
import { MAX_ERROR_MESSAGE_BYTES, MAX_MODEL_ID_BYTES, MAX_PIPE_REQUESTS_PER_FRAME, PIPE_WIRE_VERSION } from './constants.js'
import {
  checkTensors, decodeTensors, DTYPE_CODES, encodeTensor, FrameCursor, littleEndianBytes, padTo4, tensorHeader, tensorWireBytes, UNIT_BYTE_VALUES,
  WIRE_UINT8, WIRE_UNIT_BYTE
} from './tensor-wire.js'
import type { FrameArrays } from './array-pool.js'
import type { TensorData } from '../model/types.js'
import type { ServedResult, ServerLoad } from './types.js'

/** Message type byte (second byte of every 1.1.0 frame). */
export const PipeType = { Request: 1, Result: 2, Error: 3, Cancel: 4 } as const

/** One request of a request frame. */
export interface PipeEntry {
  /** u32 chosen by the caller, unique among its requests in flight on the stream. */
  id: number
  /** Rows of the frame's inputs that belong to this request (>= 1). */
  rows: number
  /** Time left to answer when the frame was sent, ms. */
  deadlineMs: number
}

/** An input of a request, ready for the wire: its code, shape and little-endian element bytes. */
export interface WireInput {
  code: number
  shape: number[]
  bytes: Uint8Array
}

export interface PipeRequest {
  modelId: string
  entries: PipeEntry[]
  /** Every request's inputs, concatenated along axis 0 (int32 sent as uint8 arrives widened, float32 sent as unit bytes rebuilt). */
  inputs: TensorData[]
}

export type PipeResponse =
  | (ServedResult & { type: 'result', id: number, load: ServerLoad })
  | { type: 'error', id: number, code: number, message: string, load: ServerLoad }

export interface PipeCodecOptions {
  /** Largest frame produced or accepted, bytes. @default 8 MiB */
  maxFrameBytes?: number
}

export interface PipeRequestOptions extends PipeCodecOptions {
  /** The frame's size when the caller already has it (`requestFrameBytes`), bytes. @default computed */
  frameBytes?: number
}

const VERSION = PIPE_WIRE_VERSION
const ENTRY_BYTES = 12
const RESULT_FIXED_BYTES = 25
const ERROR_FIXED_BYTES = 18
const utf8Encoder = new TextEncoder()

/**
 * int32 values that all fit 0..255, as one byte each (one native conversion);
 * undefined when one does not. The range check ORs every value into one word:
 * a branch-free read of the array, allocating nothing (a native round trip
 * through a second array would allocate 4 bytes per value and load the GC).
 */
function narrowed (data: Int32Array): Uint8Array | undefined {
  let bits = 0
  for (let i = 0; i < data.length; i++) bits |= data[i]
  if ((bits & ~0xff) !== 0) return undefined
  const narrow = new Uint8Array(data.length)
  narrow.set(data)
  return narrow
}

const UNIT_BYTE_BITS = new Uint32Array(UNIT_BYTE_VALUES.buffer)

/**
 * float32 values that are all, bit for bit, a unit byte's value (k / 255 as
 * float32: an 8-bit image scaled to [0, 1]), as the bytes k; undefined at the
 * first value that is not (NaN, -0, 0.5, ...). One pass, stopping early. The
 * candidate k is rounded with `| 0` (about twice as fast as Math.round here);
 * whatever k a strange value gives, the bit comparison decides.
 */
function unitBytes (data: Float32Array): Uint8Array | undefined {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length)
  const out = new Uint8Array(data.length)
  for (let i = 0; i < data.length; i++) {
    const k = (data[i] * 255 + 0.5) | 0
    if (k < 0 || k > 255 || UNIT_BYTE_BITS[k] !== bits[i]) return undefined
    out[i] = k
  }
  return out
}

/**
 * Validate a request's inputs and prepare them for the wire; with `narrow`, an
 * int32 input whose values all fit 0..255 goes as uint8, and a float32 input
 * whose values are all k / 255 (an image scaled to [0, 1]) as unit bytes:
 * 4x fewer bytes, the same values at the server.
 * Throws InvalidTensorError or MessageTooLargeError.
 */
export function toWireInputs (inputs: TensorData[], narrow: boolean): WireInput[] {
  checkTensors(inputs, 'input')
  return inputs.map(t => {
    if (narrow && t.dtype === 'int32') {
      const small = narrowed(t.data as Int32Array)
      if (small != null) return { code: WIRE_UINT8, shape: t.shape, bytes: small }
    } else if (narrow && t.dtype === 'float32') {
      const small = unitBytes(t.data as Float32Array)
      if (small != null) return { code: WIRE_UNIT_BYTE, shape: t.shape, bytes: small }
    }
    return { code: DTYPE_CODES[t.dtype], shape: t.shape, bytes: littleEndianBytes(t.data as Float32Array | Int32Array) }
  })
}

/** Requests coalesce into one frame only when their inputs agree on code and per-example shape. */
export function wireKey (modelId: string, inputs: WireInput[]): string {
  return `${modelId}\u0000${inputs.map(w => `${w.code}:${w.shape.length === 0 ? '-' : w.shape.slice(1).join('x')}`).join('|')}`
}

/** Encoded size of a request frame for these entries and (per request) inputs. */
export function requestFrameBytes (modelId: string, requests: WireInput[][]): number {
  let size = 5 + ENTRY_BYTES * requests.length + utf8Encoder.encode(modelId).length
  for (let k = 0; k < requests[0].length; k++) {
    const header = 2 + 4 * requests[0][k].shape.length + 4
    size += header + padTo4(size + header) + requests.reduce((n, inputs) => n + inputs[k].bytes.length, 0)
  }
  return size
}

/**
 * Encode a request frame of `entries.length` requests; `requests[i]` are the
 * wire inputs of entry i (same key, see `wireKey`). Tensor data is not copied.
 */
export function encodePipeRequest (modelId: string, entries: PipeEntry[], requests: WireInput[][], options: PipeRequestOptions = {}): Uint8ArrayList {
  const id = modelIdBytes(modelId)
  if (entries.length < 1 || entries.length > MAX_PIPE_REQUESTS_PER_FRAME || entries.length !== requests.length) throw new InvalidMessageError('1 to 64 requests per frame')
  checkSize(options.frameBytes ?? requestFrameBytes(modelId, requests), options)
  const head = new Uint8Array(5 + ENTRY_BYTES * entries.length + id.length)
  const view = new DataView(head.buffer)
  view.setUint8(0, VERSION)
  view.setUint8(1, PipeType.Request)
  view.setUint8(2, entries.length)
  view.setUint8(3, id.length)
  entries.forEach((e, i) => {
    view.setUint32(4 + ENTRY_BYTES * i, e.id)
    view.setUint32(8 + ENTRY_BYTES * i, e.rows)
    view.setUint32(12 + ENTRY_BYTES * i, u32(e.deadlineMs))
  })
  head.set(id, 4 + ENTRY_BYTES * entries.length)
  view.setUint8(head.length - 1, requests[0].length)
  const out = new Uint8ArrayList<ArrayBufferLike>(head)
  for (let k = 0; k < requests[0].length; k++) {
    const first = requests[0][k]
    const parts = requests.map(inputs => inputs[k].bytes)
    const rows = requests.reduce((n, inputs) => n + (inputs[k].shape[0] ?? 1), 0)
    const shape = first.shape.length === 0 ? [] : [rows, ...first.shape.slice(1)]
    out.append(tensorHeader(first.code, shape, parts.reduce((n, p) => n + p.length, 0), out.byteLength), ...parts)
  }
  return out
}

function loadBytes (view: DataView, at: number, load: ServerLoad): void {
  view.setUint32(at, u32(load.outstanding))
  view.setUint32(at + 4, u32(load.capacity))
}

/** Encode a result frame (times as whole microseconds). */
export function encodePipeResult (id: number, result: ServedResult, load: ServerLoad, options: PipeCodecOptions = {}): Uint8ArrayList {
  checkTensors(result.outputs, 'output')
  let size = RESULT_FIXED_BYTES
  for (const t of result.outputs) size += tensorWireBytes(t, size)
  checkSize(size, options)
  const head = new Uint8Array(RESULT_FIXED_BYTES)
  const view = new DataView(head.buffer)
  view.setUint8(0, VERSION)
  view.setUint8(1, PipeType.Result)
  view.setUint32(2, id)
  view.setUint32(6, u32(result.queueMs * 1000))
  view.setUint32(10, u32(result.computeMs * 1000))
  view.setUint16(14, Math.max(1, Math.min(0xffff, Math.round(result.batchSize))))
  loadBytes(view, 16, load)
  view.setUint8(24, result.outputs.length)
  const out = new Uint8ArrayList<ArrayBufferLike>(head)
  for (const t of result.outputs) out.append(...encodeTensor(t, out.byteLength))
  return out
}

/** Encode an error frame for any thrown value; the code comes from the error's name. */
export function encodePipeError (id: number, err: unknown, load: ServerLoad): Uint8Array {
  const message = truncatedUtf8(err instanceof Error ? err.message : String(err), MAX_ERROR_MESSAGE_BYTES)
  const out = new Uint8Array(ERROR_FIXED_BYTES + message.length)
  const view = new DataView(out.buffer)
  view.setUint8(0, VERSION)
  view.setUint8(1, PipeType.Error)
  view.setUint32(2, id)
  view.setUint16(6, errorToCode(err))
  loadBytes(view, 8, load)
  view.setUint16(16, message.length)
  out.set(message, ERROR_FIXED_BYTES)
  return out
}

/** Encode a cancel frame: the caller no longer wants request `id`. */
export function encodePipeCancel (id: number): Uint8Array {
  const out = new Uint8Array(6)
  const view = new DataView(out.buffer)
  view.setUint8(0, VERSION)
  view.setUint8(1, PipeType.Cancel)
  view.setUint32(2, id)
  return out
}

function openFrame (cursor: FrameCursor, options: PipeCodecOptions): number {
  return openVersioned(cursor, options, VERSION)
}

function readEntries (cursor: FrameCursor, count: number): PipeEntry[] {
  const entries: PipeEntry[] = []
  const ids = new Set<number>()
  for (let i = 0; i < count; i++) {
    const entry = { id: cursor.u32('request id'), rows: cursor.u32('rows'), deadlineMs: cursor.u32('deadline') }
    if (ids.has(entry.id)) throw new InvalidMessageError(`request id ${entry.id} twice in one frame`)
    if (entry.rows === 0) throw new InvalidMessageError(`request ${entry.id} has 0 rows`)
    ids.add(entry.id)
    entries.push(entry)
  }
  return entries
}

/**
 * Decode a caller-to-server frame: a request frame, or a cancel frame (`{ cancel: id }`).
 * Byte tensors are widened into arrays borrowed from `options.arrays` when given.
 */
export function decodePipeInbound (bytes: Uint8Array, options: PipeCodecOptions & { arrays?: FrameArrays } = {}): PipeRequest | { cancel: number } {
  const cursor = new FrameCursor(bytes)
  const type = openFrame(cursor, options)
  if (type === PipeType.Cancel) {
    const cancel = cursor.u32('request id')
    cursor.end('the request id')
    return { cancel }
  }
  if (type !== PipeType.Request) throw new InvalidMessageError(`expected a request, got message type ${type}`)
  const count = cursor.u8('request count')
  if (count < 1 || count > MAX_PIPE_REQUESTS_PER_FRAME) throw new InvalidMessageError(`request count ${count} outside 1..${MAX_PIPE_REQUESTS_PER_FRAME}`)
  const idLength = cursor.u8('model id length')
  if (idLength === 0 || idLength > MAX_MODEL_ID_BYTES) throw new InvalidMessageError(`model id length ${idLength} outside 1..${MAX_MODEL_ID_BYTES}`)
  const entries = readEntries(cursor, count)
  const modelId = utf8(cursor.take(idLength, 'model id'), 'model id')
  const inputs = decodeTensors(cursor, 'input', true, options.arrays)
  cursor.end('the last input')
  const rows = entries.reduce((n, e) => n + e.rows, 0)
  const fits = inputs.every(t => t.shape.length === 0 ? rows === 1 : t.shape[0] === rows)
  if (!fits) throw new InvalidMessageError(`inputs do not have the ${rows} rows of the frame's requests`)
  return { modelId, entries, inputs }
}

/** Decode a server-to-caller frame: a result or an error. */
export function decodePipeResponse (bytes: Uint8Array, options: PipeCodecOptions = {}): PipeResponse {
  const cursor = new FrameCursor(bytes)
  const type = openFrame(cursor, options)
  const id = cursor.u32('request id')
  if (type === PipeType.Error) {
    const code = cursor.u16('error code')
    const load = { outstanding: cursor.u32('outstanding'), capacity: cursor.u32('capacity') }
    const length = cursor.u16('error message length')
    if (length > MAX_ERROR_MESSAGE_BYTES) throw new InvalidMessageError(`error message of ${length} bytes exceeds ${MAX_ERROR_MESSAGE_BYTES}`)
    const message = utf8(cursor.take(length, 'error message'), 'error message')
    cursor.end('the error message')
    return { type: 'error', id, code, message, load }
  }
  if (type !== PipeType.Result) throw new InvalidMessageError(`expected a response, got message type ${type}`)
  const queueMs = cursor.u32('queue time') / 1000
  const computeMs = cursor.u32('compute time') / 1000
  const batchSize = cursor.u16('batch size')
  if (batchSize === 0) throw new InvalidMessageError('batch size 0')
  const load = { outstanding: cursor.u32('outstanding'), capacity: cursor.u32('capacity') }
  const outputs = decodeTensors(cursor, 'output')
  cursor.end('the last output')
  return { type: 'result', id, queueMs, computeMs, batchSize, load, outputs }
}

/**
 * The request ids a request frame that failed to decode still names (as many
 * entries as arrived whole), so each can be answered with an error frame.
 */
export function peekPipeIds (bytes: Uint8Array): number[] {
  if (bytes.length < 4 || bytes[0] !== VERSION || bytes[1] !== PipeType.Request) return []
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const count = Math.min(bytes[2], MAX_PIPE_REQUESTS_PER_FRAME, Math.floor((bytes.length - 4) / ENTRY_BYTES))
  const ids = new Set<number>()
  for (let i = 0; i < count; i++) ids.add(view.getUint32(4 + ENTRY_BYTES * i))
  return [...ids]
}
