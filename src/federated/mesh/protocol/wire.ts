/**
 * Streams of `/edge-mesh/fedavg/1.0.0`: one request/response exchange per
 * stream. A message is a control frame (`messages.ts`), followed, when its
 * header has `weightBytes`, by a binary weight record in data frames written
 * with backpressure (`src/wire/framing.ts`) and decoded incrementally with
 * the core's decoder and its size limits.
 */
import { MessageTooLargeError, ProtocolError } from '../../../errors.js'
import { FrameReader, writeFrames } from '../../../wire/framing.js'
import { request as requestWithDeadline } from '../../../wire/request.js'
import { WeightRecordDecoder, encodeWeightRecord } from '../../weights/codec.js'
import { DEFAULT_MAX_RECORD_BYTES, DEFAULT_WEIGHT_CHUNK_BYTES, FEDAVG_PROTOCOL, MAX_FRAME_BYTES } from './constants.js'
import { errorFromMessage } from './errors.js'
import { decodeMessage, encodeMessage, expectMessage } from './messages.js'
import type { FedMessage, MessageName } from './messages.js'
import type { WeightRecord } from '../../../model/types.js'
import type { StreamOpener } from '../../../wire/request.js'
export type { StreamOpener }
import type { AbortOptions, MessageStream } from '@libp2p/interface'

/** Size limits of one stream. */
export interface WireLimits {
  /** Largest weight record (or compressed update) accepted, bytes. @default 48 MiB */
  maxRecordBytes?: number
  /** Payload bytes of one weight data frame sent. @default 256 KiB */
  chunkBytes?: number
  /**
   * Called with a message whose header announces data frames, before any of
   * them is read; throwing refuses the message (a run's bound on the size of
   * a compressed update, for example).
   */
  checkPayload?(message: FedMessage): void
}

/** What follows a control frame: a weight record, or the bytes of a compressed update (PUSH with `encoding: "compressed"`). */
export type Payload = WeightRecord | Uint8Array

/** True when the payload is raw compressed bytes rather than a weight record. */
export function isCompressedPayload (payload: Payload | undefined): payload is Uint8Array {
  return payload instanceof Uint8Array
}

function * chunksOf (bytes: Uint8Array, chunkBytes: number): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += chunkBytes) yield bytes.subarray(at, Math.min(bytes.length, at + chunkBytes))
}

function varintLength (n: number): number {
  let len = 1
  while (n >= 0x80) { n = Math.floor(n / 128); len++ }
  return len
}

/**
 * Write a message and, when `record` is given, its weight record or compressed
 * bytes (the header's `weightBytes` must be their encoded size). Returns the bytes written.
 */
export async function writeMessage (stream: MessageStream, message: FedMessage, record: Payload | undefined, options: AbortOptions & WireLimits = {}): Promise<number> {
  let bytes = 0
  const frames = function * (): Generator<Uint8Array> {
    const control = encodeMessage(message)
    bytes += control.length + varintLength(control.length)
    yield control
    if (record === undefined) return
    const chunkBytes = options.chunkBytes ?? DEFAULT_WEIGHT_CHUNK_BYTES
    for (const chunk of isCompressedPayload(record) ? chunksOf(record, chunkBytes) : encodeWeightRecord(record, { chunkBytes })) {
      bytes += chunk.length + varintLength(chunk.length)
      yield chunk
    }
  }
  await writeFrames(stream, frames(), options)
  return bytes
}

/** Reads the messages and weight records of one stream, counting bytes. */
export class MessageReader {
  private readonly frames: FrameReader
  private readonly maxRecordBytes: number
  /** The limits' payload check, run by `readMessage` before any data frame. */
  readonly checkPayload?: (message: FedMessage) => void
  bytesRead = 0

  constructor (source: AsyncIterable<any>, limits: WireLimits = {}) {
    this.frames = new FrameReader(source, { maxFrameBytes: MAX_FRAME_BYTES })
    this.maxRecordBytes = limits.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES
    this.checkPayload = limits.checkPayload
  }

  private count (frame: Uint8Array): Uint8Array {
    this.bytesRead += frame.length + varintLength(frame.length)
    return frame
  }

  /** The next message; a clean end of stream is a ProtocolError. */
  async read (what: string): Promise<FedMessage> {
    return decodeMessage(this.count(await this.frames.expect(what)))
  }

  /** Exactly `weightBytes` bytes of data frames, decoded as a weight record. */
  async readRecord (weightBytes: number): Promise<WeightRecord> {
    if (weightBytes > this.maxRecordBytes) throw new MessageTooLargeError(`weight record of ${weightBytes} bytes exceeds ${this.maxRecordBytes}`)
    const decoder = new WeightRecordDecoder({ maxBytes: weightBytes })
    let received = 0
    while (received < weightBytes) {
      // Data frames go to the decoder as received (no copy into one contiguous buffer).
      const frame = await this.frames.nextList()
      if (frame == null) throw new ProtocolError('stream ended before the rest of the weight record')
      this.bytesRead += frame.byteLength + varintLength(frame.byteLength)
      received += frame.byteLength
      if (received > weightBytes) throw new ProtocolError(`more weight bytes than the announced ${weightBytes}`)
      decoder.push(frame)
    }
    return decoder.finish()
  }

  /** Exactly `length` bytes of data frames, copied into one buffer (a compressed update). */
  async readBytes (length: number): Promise<Uint8Array> {
    if (length > this.maxRecordBytes) throw new MessageTooLargeError(`compressed update of ${length} bytes exceeds ${this.maxRecordBytes}`)
    const out = new Uint8Array(length)
    let received = 0
    while (received < length) {
      const frame = await this.frames.nextList()
      if (frame == null) throw new ProtocolError('stream ended before the rest of the compressed update')
      this.bytesRead += frame.byteLength + varintLength(frame.byteLength)
      if (received + frame.byteLength > length) throw new ProtocolError(`more bytes than the announced ${length}`)
      out.set(frame.subarray(), received)
      received += frame.byteLength
    }
    return out
  }

  /** Require the remote to have closed its side with nothing more. */
  async end (): Promise<void> {
    if (await this.frames.next() !== undefined) throw new ProtocolError('unexpected data after the message')
  }
}

/** A message and its weight record, or its compressed update, if it carries one. */
export interface Received<M extends FedMessage = FedMessage> {
  message: M
  record?: WeightRecord
  /** The bytes of a compressed update (a PUSH with `encoding: "compressed"`). */
  compressed?: Uint8Array
}

/** Read one message and its record or compressed bytes (when the header announces `weightBytes`). */
export async function readMessage (reader: MessageReader, what: string): Promise<Received> {
  const message = await reader.read(what)
  if (!('weightBytes' in message)) return { message }
  reader.checkPayload?.(message)
  if (message.type === 'push' && message.encoding === 'compressed') return { message, compressed: await reader.readBytes(message.weightBytes) }
  return { message, record: await reader.readRecord(message.weightBytes) }
}

export interface ExchangeOptions extends AbortOptions, WireLimits {
  /** Longest the whole exchange may take, ms. */
  timeoutMs: number
}

/** The outcome of one request/response exchange. */
export interface Exchanged<M extends FedMessage> extends Received<M> {
  bytesSent: number
  bytesReceived: number
}

/**
 * Open a stream to `peerId`, send `request` (and `record`), half-close, read
 * the reply of type `expect` (an error reply is thrown as its named error).
 * The caller's signal surfaces as AbortError, the timeout as DeadlineExceededError
 * (`src/wire/request.ts`).
 */
export async function exchange<N extends MessageName> (opener: StreamOpener, peerId: string, request: FedMessage, record: Payload | undefined, expect: N, options: ExchangeOptions): Promise<Exchanged<Extract<FedMessage, { type: N }>>> {
  return requestWithDeadline(opener, peerId, FEDAVG_PROTOCOL, async (stream, signal) => {
    const bytesSent = await writeMessage(stream, request, record, { ...options, signal })
    await stream.close({ signal })
    const reader = new MessageReader(stream, options)
    const { message, record: reply } = await readMessage(reader, `the ${expect} reply`)
    const typed = expectMessage(message, expect, errorFromMessage)
    await reader.end()
    return { message: typed, record: reply, bytesSent, bytesReceived: reader.bytesRead }
  }, { timeoutMs: options.timeoutMs, what: request.type, signal: options.signal })
}
