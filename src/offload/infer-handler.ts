/**
 * The serving side of `/edge-mesh/infer/1.0.0`: read one request frame, run it
 * through the execution engine, write one response frame, close.
 *
 * Every stream has a timeout (the stream is aborted when it fires) and a
 * maximum frame size. Malformed input (a bad or oversized length prefix, an
 * undecodable frame, a stream that ends early) is answered with a typed error
 * frame when the stream still allows it; no input can make the handler throw
 * past its own stream.
 */
import { logger } from '@libp2p/logger'
import { AbortError, DeadlineExceededError } from '../errors.js'
import { FrameReader, writeFrame } from '../wire/framing.js'
import { decodeRequest, encodeError, encodeResult, peekRequestId } from './codec.js'
import {
  DEFAULT_INFER_MAX_INBOUND_STREAMS, DEFAULT_INFER_MAX_OUTBOUND_STREAMS, DEFAULT_INFER_STREAM_TIMEOUT_MS,
  DEFAULT_MAX_INFER_FRAME_BYTES, INFER_PROTOCOL
} from './constants.js'
import type { LocalInvoker } from './types.js'
import type { Uint8ArrayList } from '../wire/framing.js'
import type { Connection, Startable, Stream } from '@libp2p/interface'
import type { Registrar } from '@libp2p/interface-internal'

const log = logger('edge-mesh:offload:infer-handler')

/** Errors of a peer's bytes that deserve an error frame rather than a bare abort. */
const WIRE_ERRORS = new Set(['InvalidMessageError', 'MessageTooLargeError', 'ProtocolError'])

export interface InferHandlerInit {
  /** Largest request frame accepted (and response frame sent), bytes. @default 8 MiB */
  maxFrameBytes?: number
  /** Longest a stream may stay open, ms; bounds the request's own deadline too. @default 30000 */
  timeoutMs?: number
  /** @default 64 */
  maxInboundStreams?: number
  /** @default 64 */
  maxOutboundStreams?: number
}

export interface InferHandlerComponents {
  registrar: Pick<Registrar, 'handle' | 'unhandle'>
  /** The node's execution engine. */
  engine: LocalInvoker
}

/** Counters of the handler. */
export interface InferHandlerStats {
  /** Streams handled. */
  streams: number
  /** Requests answered with outputs. */
  served: number
  /** Requests answered with an error frame (busy, unknown model, malformed ...). */
  errorReplies: number
  /** Streams whose bytes did not decode. */
  malformed: number
  /** Streams aborted (timeout, reset, write failure). */
  aborted: number
}

export class InferHandler implements Startable {
  private readonly maxFrameBytes: number
  private readonly timeoutMs: number
  private readonly maxInboundStreams: number
  private readonly maxOutboundStreams: number
  private started = false
  private readonly counters: InferHandlerStats = { streams: 0, served: 0, errorReplies: 0, malformed: 0, aborted: 0 }

  constructor (private readonly components: InferHandlerComponents, init: InferHandlerInit = {}) {
    this.maxFrameBytes = init.maxFrameBytes ?? DEFAULT_MAX_INFER_FRAME_BYTES
    this.timeoutMs = init.timeoutMs ?? DEFAULT_INFER_STREAM_TIMEOUT_MS
    this.maxInboundStreams = init.maxInboundStreams ?? DEFAULT_INFER_MAX_INBOUND_STREAMS
    this.maxOutboundStreams = init.maxOutboundStreams ?? DEFAULT_INFER_MAX_OUTBOUND_STREAMS
  }

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    if (this.started) return
    await this.components.registrar.handle(INFER_PROTOCOL, this.handle, {
      maxInboundStreams: this.maxInboundStreams,
      maxOutboundStreams: this.maxOutboundStreams
    })
    this.started = true
  }

  async stop (): Promise<void> {
    if (!this.started) return
    await this.components.registrar.unhandle(INFER_PROTOCOL)
    this.started = false
  }

  stats (): InferHandlerStats {
    return { ...this.counters }
  }

  /** The stream handler; never rejects. */
  readonly handle = async (stream: Stream, connection?: Connection): Promise<void> => {
    this.counters.streams++
    const startedAt = performance.now()
    const timeout = AbortSignal.timeout(this.timeoutMs)
    const onTimeout = (): void => { stream.abort(new DeadlineExceededError(`infer stream open longer than ${this.timeoutMs} ms`)) }
    timeout.addEventListener('abort', onTimeout, { once: true })
    // A caller that resets the stream no longer wants the answer: drop its request.
    const gone = new AbortController()
    const onClose = (): void => { gone.abort(new AbortError('stream closed by the caller')) }
    stream.addEventListener('close', onClose, { once: true })
    const signal = AbortSignal.any([timeout, gone.signal])
    try {
      const reply = await this.answer(stream, signal, startedAt)
      await writeFrame(stream, reply, { signal })
      await stream.close({ signal })
    } catch (err: any) {
      this.counters.aborted++
      log.error('infer stream from %p failed: %e', connection?.remotePeer, err)
      if (stream.status === 'open') stream.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      timeout.removeEventListener('abort', onTimeout)
      stream.removeEventListener('close', onClose)
    }
  }

  /** The reply frame for a stream: a result, or an error frame for any failure the peer should hear about. */
  private async answer (stream: Stream, signal: AbortSignal, startedAt: number): Promise<Uint8Array | Uint8ArrayList> {
    let frame: Uint8Array
    try {
      frame = await new FrameReader(stream, { maxFrameBytes: this.maxFrameBytes }).expect('the request')
    } catch (err: any) {
      if (signal.aborted || !WIRE_ERRORS.has(err?.name)) throw err
      return this.malformed(0n, err)
    }
    let request
    try {
      request = decodeRequest(frame, { maxFrameBytes: this.maxFrameBytes })
    } catch (err) {
      return this.malformed(peekRequestId(frame), err)
    }
    try {
      const left = this.timeoutMs - (performance.now() - startedAt)
      const deadlineMs = Math.min(request.deadlineMs, left)
      const result = await this.components.engine(request.modelId, request.inputs, { deadlineMs, signal })
      const reply = encodeResult(request.requestId, result, { maxFrameBytes: this.maxFrameBytes })
      this.counters.served++
      return reply
    } catch (err) {
      if (signal.aborted) throw err
      this.counters.errorReplies++
      return encodeError(request.requestId, err)
    }
  }

  private malformed (requestId: bigint, err: unknown): Uint8Array {
    this.counters.malformed++
    this.counters.errorReplies++
    log('malformed request: %e', err)
    return encodeError(requestId, err)
  }
}

/** Create the inbound handler of `/edge-mesh/infer/1.0.0`; `start()` registers it. */
export function createInferHandler (components: InferHandlerComponents, init: InferHandlerInit = {}): InferHandler {
  return new InferHandler(components, init)
}
