/**
 * Length-prefixed framing over libp2p 3 message streams, shared by every
 * edge-mesh stream protocol.
 *
 * A frame is an unsigned varint byte length followed by that many bytes
 * (it-length-prefixed). Reading composes the stream with the decoder through
 * it-pipe and enforces a maximum frame size before any payload is buffered;
 * writing encodes frames and sends them with `stream.send()`, waiting on
 * `onDrain()` whenever the stream asks for backpressure.
 */
import * as lp from 'it-length-prefixed'
import { pipe } from 'it-pipe'
import { Uint8ArrayList } from 'uint8arraylist'
import { InvalidMessageError, MessageTooLargeError, ProtocolError } from '../errors.js'
import type { AbortOptions, MessageStream } from '@libp2p/interface'

/** Default largest frame accepted: 8 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024

export interface FrameReadOptions {
  /** Largest frame payload accepted, in bytes. @default 8 MiB */
  maxFrameBytes?: number
  /**
   * Called with each frame's announced length as soon as its prefix is read,
   * before any of its payload is buffered; throwing refuses the frame (a
   * per-peer memory budget, for example).
   */
  onLength?(length: number): void
}

/** Translate the decoder's errors into edge-mesh's named errors. */
function toFramingError (err: any): Error {
  switch (err?.name) {
    case 'InvalidDataLengthError':
    case 'InvalidDataLengthLengthError':
      return new MessageTooLargeError(`frame larger than the limit: ${String(err.message)}`)
    case 'InvalidMessageLengthError':
      return new InvalidMessageError(`invalid frame length prefix: ${String(err.message)}`)
    case 'UnexpectedEOFError':
      return new ProtocolError('stream ended in the middle of a frame')
    default:
      return err
  }
}

/**
 * Decode the frames of a stream (or any byte source) one by one.
 * Throws `MessageTooLargeError` as soon as a length prefix exceeds the limit.
 */
export async function * readFrames (source: AsyncIterable<Uint8Array | Uint8ArrayList>, options: FrameReadOptions = {}): AsyncGenerator<Uint8ArrayList> {
  const maxDataLength = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  try {
    yield * pipe(source, (src) => lp.decode(src, { maxDataLength, onLength: options.onLength }))
  } catch (err) {
    throw toFramingError(err)
  }
}

/** Send raw bytes on a stream, honouring backpressure. */
export async function sendWithBackpressure (stream: MessageStream, chunk: Uint8Array | Uint8ArrayList, options: AbortOptions = {}): Promise<void> {
  if (!stream.send(chunk)) {
    await stream.onDrain(options)
  }
}

/** Encode frames with a length prefix and write them to the stream with backpressure. */
export async function writeFrames (stream: MessageStream, frames: Iterable<Uint8Array | Uint8ArrayList> | AsyncIterable<Uint8Array | Uint8ArrayList>, options: AbortOptions = {}): Promise<void> {
  await pipe(
    frames,
    // One chunk per frame (prefix and payload together): half the muxer frames,
    // Noise messages and socket writes of sending them apart.
    async function * (src) { for await (const frame of src) yield lp.encode.single(frame) },
    async (src) => {
      for await (const chunk of src) {
        options.signal?.throwIfAborted()
        await sendWithBackpressure(stream, chunk, options)
      }
    }
  )
}

/** Write a single frame. */
export async function writeFrame (stream: MessageStream, frame: Uint8Array | Uint8ArrayList, options: AbortOptions = {}): Promise<void> {
  await writeFrames(stream, [frame], options)
}

/**
 * A pull-style reader over a stream's frames, for request/response protocols
 * that read one frame, act, then read the next.
 */
export class FrameReader {
  private readonly frames: AsyncGenerator<Uint8ArrayList>

  constructor (source: AsyncIterable<Uint8Array | Uint8ArrayList>, options: FrameReadOptions = {}) {
    this.frames = readFrames(source, options)
  }

  /** The next frame as contiguous bytes, or `undefined` when the remote closed its end cleanly. */
  async next (): Promise<Uint8Array | undefined> {
    const { value, done } = await this.frames.next()
    if (done === true) return undefined
    return value.subarray()
  }

  /** The next frame as received (possibly several chunks, not copied), or `undefined` at a clean end. */
  async nextList (): Promise<Uint8ArrayList | undefined> {
    const { value, done } = await this.frames.next()
    return done === true ? undefined : value
  }

  /** The next frame; a clean end of stream is a ProtocolError here. */
  async expect (what: string): Promise<Uint8Array> {
    const frame = await this.next()
    if (frame == null) throw new ProtocolError(`stream ended before ${what}`)
    return frame
  }

  /** Stop reading and release the decoder. */
  async close (): Promise<void> {
    await this.frames.return(undefined)
  }
}

export { Uint8ArrayList }
