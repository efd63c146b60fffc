/**
 * The serving side of inference: `/edge-mesh/infer/1.0.0` here (read one
 * request frame, run it through the execution engine, write one response
 * frame, close) and `/edge-mesh/infer/1.1.0` (pipelined, `pipe-handler.ts`),
 * registered together and sharing one `ServingGuard` (per-peer byte budget,
 * malformed-frame bans, counters), so both protocols enforce the same limits.
 *
 * Every stream has a timeout (the stream is aborted when it fires) and a
 * maximum frame size. Malformed input (a bad or oversized length prefix, an
 * undecodable frame, a stream that ends early) is answered with a typed error
 * frame when the stream still allows it; no input can make the handler throw
 * past its own stream.
 */
import { logger } from '@libp2p/logger'
import { AbortError, DeadlineExceededError, PeerBusyError } from '../errors.js'
import { serveWithDeadline } from '../wire/serve.js'
import { FrameReader, writeFrame } from '../wire/framing.js'
import { decodeRequest, encodeError, encodeResult, peekRequestId, requestIdFromStreamHead } from './codec.js'
import {
  DEFAULT_INFER_MAX_INBOUND_STREAMS, DEFAULT_INFER_MAX_OUTBOUND_STREAMS, DEFAULT_INFER_STREAM_TIMEOUT_MS,
  DEFAULT_MAX_INFER_FRAME_BYTES, DEFAULT_MAX_PEER_INFLIGHT_BYTES, DEFAULT_REQUEST_READ_TIMEOUT_MS, INFER_PROTOCOL,
  INFER_REGISTRAR_STREAMS_FACTOR
} from './constants.js'
import { PipeHandler } from './pipe-handler.js'
import { ServingGuard } from './serving-guard.js'
import type { PooledArrayStats } from './array-pool.js'
import type { Reservation, InferHandlerStats } from './serving-guard.js'
import type { LocalInvoker, ServerLoad } from './types.js'
import type { Uint8ArrayList } from '../wire/framing.js'
import type { Connection, Logger, Startable, Stream } from '@libp2p/interface'
import type { Registrar } from '@libp2p/interface-internal'

/** Errors of a peer's bytes (or its budget) that deserve an error frame rather than a bare abort. */
const WIRE_ERRORS = new Set(['InvalidMessageError', 'MessageTooLargeError', 'ProtocolError', 'PeerBusyError'])

export interface InferHandlerInit {
  /** Largest request frame accepted (and response frame sent), bytes. @default 8 MiB */
  maxFrameBytes?: number
  /** Longest a stream may stay open, ms; bounds the request's own deadline too. @default 30000 */
  timeoutMs?: number
  /** Concurrent streams per connection served; the handler answers PeerBusy beyond them. @default 32 */
  maxInboundStreams?: number
  /** @default 64 */
  maxOutboundStreams?: number
  /** Request bytes one peer may have in flight at once; a frame beyond it is answered busy at once. @default 4 MiB */
  maxPeerInflightBytes?: number
  /** Time a caller has to deliver its request frame, ms. @default 5000 */
  requestReadTimeoutMs?: number
  /** Requests in flight per `/edge-mesh/infer/1.1.0` stream; more are answered busy. @default 64 */
  pipeMaxInFlight?: number
  /** A 1.1.0 stream idle this long is closed, ms. @default 120000 (twice the caller's idle timeout) */
  pipeIdleTimeoutMs?: number
}

export interface InferHandlerComponents {
  registrar: Pick<Registrar, 'handle' | 'unhandle'>
  /** The node's execution engine. */
  engine: LocalInvoker
  /**
   * Called once a peer has sent `MAX_MALFORMED_PER_WINDOW` malformed frames
   * within `MALFORMED_WINDOW_MS` (honest peers send none): the service bans it.
   */
  onAbuse?(peerId: string): void
  /**
   * This node's load, sent with every 1.1.0 reply (requests admitted and not
   * answered, execution slots). @default none: `{ outstanding: 0, capacity: 0 }`
   */
  load?(): ServerLoad
  /** The offload service's logger. @default `edge-mesh:offload:infer-handler` */
  log?: Logger
}

export type { InferHandlerStats }

export class InferHandler implements Startable {
  private readonly maxFrameBytes: number
  private readonly timeoutMs: number
  private readonly maxInboundStreams: number
  private readonly maxOutboundStreams: number
  private readonly maxPeerInflightBytes: number
  private readonly requestReadTimeoutMs: number
  /** Open streams per connection id. */
  private readonly open = new Map<string, number>()
  private started = false
  private readonly guard: ServingGuard
  private readonly counters: InferHandlerStats
  private readonly pipe: PipeHandler

  private readonly log: Logger

  constructor (private readonly components: InferHandlerComponents, init: InferHandlerInit = {}) {
    this.log = components.log ?? logger('edge-mesh:offload:infer-handler')
    this.maxFrameBytes = init.maxFrameBytes ?? DEFAULT_MAX_INFER_FRAME_BYTES
    this.timeoutMs = init.timeoutMs ?? DEFAULT_INFER_STREAM_TIMEOUT_MS
    this.maxInboundStreams = init.maxInboundStreams ?? DEFAULT_INFER_MAX_INBOUND_STREAMS
    this.maxOutboundStreams = init.maxOutboundStreams ?? DEFAULT_INFER_MAX_OUTBOUND_STREAMS
    this.maxPeerInflightBytes = init.maxPeerInflightBytes ?? DEFAULT_MAX_PEER_INFLIGHT_BYTES
    this.requestReadTimeoutMs = Math.min(init.requestReadTimeoutMs ?? DEFAULT_REQUEST_READ_TIMEOUT_MS, this.timeoutMs)
    this.guard = new ServingGuard(init.maxPeerInflightBytes ?? DEFAULT_MAX_PEER_INFLIGHT_BYTES, components.onAbuse)
    this.counters = this.guard.counters
    this.pipe = new PipeHandler({ registrar: components.registrar, engine: components.engine, guard: this.guard, load: components.load, log: this.log }, {
      maxFrameBytes: this.maxFrameBytes,
      maxInFlight: init.pipeMaxInFlight,
      idleTimeoutMs: init.pipeIdleTimeoutMs,
      maxOutboundStreams: this.maxOutboundStreams
    })
  }

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    if (this.started) return
    await this.components.registrar.handle(INFER_PROTOCOL, this.handle, {
      maxInboundStreams: this.maxInboundStreams * INFER_REGISTRAR_STREAMS_FACTOR,
      maxOutboundStreams: this.maxOutboundStreams
    })
    await this.pipe.start()
    this.started = true
  }

  async stop (): Promise<void> {
    if (!this.started) return
    await this.components.registrar.unhandle(INFER_PROTOCOL)
    await this.pipe.stop()
    this.started = false
  }

  /** The `/edge-mesh/infer/1.1.0` stream handler (registered by `start()`). */
  get handlePipe (): PipeHandler['handle'] {
    return this.pipe.handle
  }

  stats (): InferHandlerStats {
    return { ...this.counters }
  }

  /** The 1.1.0 handler's reused arrays (see `array-pool.ts`): taken, reused, kept and dropped, and free bytes held. */
  pooledArrays (): PooledArrayStats {
    return this.pipe.pooledArrays()
  }

  /** The stream handler; never rejects. */
  readonly handle = async (stream: Stream, connection?: Connection): Promise<void> => {
    this.counters.streams++
    const startedAt = performance.now()
    // A caller that resets the stream no longer wants the answer: drop its request.
    const gone = new AbortController()
    const onClose = (): void => { gone.abort(new AbortError('stream closed by the caller')) }
    stream.addEventListener('close', onClose, { once: true })
    const peer = connection?.remotePeer.toString() ?? ''
    const budget: Reservation = { reserved: 0 }
    const overLimit = this.opened(connection?.id, 1) > this.maxInboundStreams
    try {
      // The stream's deadline is released when it is done (wire/serve.ts): a flood of short
      // streams must not keep each finished stream alive until its timeout would have fired.
      await serveWithDeadline(stream, async (timeout) => {
        const signal = AbortSignal.any([timeout, gone.signal])
        const reply = await this.answer(stream, signal, startedAt, peer, budget, overLimit)
        await writeFrame(stream, reply, { signal })
        await stream.close({ signal })
      }, {
        timeoutMs: this.timeoutMs,
        what: 'infer',
        onError: (err) => {
          this.counters.aborted++
          this.log.error('infer stream from %p failed: %e', connection?.remotePeer, err)
        }
      })
    } finally {
      stream.removeEventListener('close', onClose)
      this.guard.release(peer, budget)
      this.opened(connection?.id, -1)
    }
  }

  /** Count a stream opened (+1) or done (-1) on a connection; returns the connection's open streams. */
  private opened (connectionId: string | undefined, delta: 1 | -1): number {
    if (connectionId == null) return 0
    const count = (this.open.get(connectionId) ?? 0) + delta
    if (count <= 0) this.open.delete(connectionId)
    else this.open.set(connectionId, count)
    return count
  }

  /** The reply frame for a stream: a result, or an error frame for any failure the peer should hear about. */
  private async answer (stream: Stream, signal: AbortSignal, startedAt: number, peer: string, budget: Reservation, overLimit: boolean): Promise<Uint8Array | Uint8ArrayList> {
    let frame: Uint8Array
    // The first bytes, so a request that does not arrive whole is still answered under its id.
    const head = new Uint8Array(18)
    let headLength = 0
    const source = (async function * () {
      for await (const chunk of stream) {
        if (headLength < head.length) {
          const bytes = chunk.subarray(0, Math.min(head.length - headLength, chunk.byteLength))
          head.set(bytes, headLength)
          headLength += bytes.length
        }
        yield chunk
      }
    })()
    // A stream that does not deliver its request in time is dropped early, so a
    // silent peer cannot hold buffers for the whole stream timeout.
    const readTimer = setTimeout(() => {
      stream.abort(new DeadlineExceededError(`no request frame within ${this.requestReadTimeoutMs} ms`))
    }, this.requestReadTimeoutMs)
    try {
      frame = await new FrameReader(source, {
        maxFrameBytes: this.maxFrameBytes,
        onLength: (length) => { this.guard.reserve(peer, length, budget) }
      }).expect('the request')
    } catch (err: any) {
      if (signal.aborted || !WIRE_ERRORS.has(err?.name)) throw err
      return this.malformed(requestIdFromStreamHead(head.subarray(0, headLength)), err, err?.name === 'PeerBusyError' ? undefined : peer)
    } finally {
      clearTimeout(readTimer)
    }
    let request
    try {
      request = decodeRequest(frame, { maxFrameBytes: this.maxFrameBytes })
    } catch (err) {
      return this.malformed(peekRequestId(frame), err, peer)
    }
    if (overLimit) {
      this.counters.errorReplies++
      return encodeError(request.requestId, new PeerBusyError(`more than ${this.maxInboundStreams} infer streams open on this connection`))
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

  private malformed (requestId: bigint, err: unknown, abuser?: string): Uint8Array {
    this.log('malformed request: %e', err)
    this.guard.malformed(abuser)
    return encodeError(requestId, err)
  }
}

/** Create the inbound handler of `/edge-mesh/infer/1.0.0` and `1.1.0`; `start()` registers both. */
export function createInferHandler (components: InferHandlerComponents, init: InferHandlerInit = {}): InferHandler {
  return new InferHandler(components, init)
}
