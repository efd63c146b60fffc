/**
 * The serving side of `/edge-mesh/infer/1.1.0`: one long-lived stream per
 * caller carrying pipelined, id-tagged requests. Each request of a frame runs
 * through the same engine as 1.0.0 requests (its rows viewed in place) and is
 * answered by its own result or error frame as soon as it is done, in any
 * order, with this node's load.
 *
 * Bounds, per stream: at most `maxInFlight` requests in flight (more are
 * answered PeerBusy), frames of at most `maxFrameBytes`, each request's
 * deadline (capped at the 1.0.0 stream timeout), and an idle timeout; per
 * peer: the request-byte budget and the malformed-frame ban of `ServingGuard`,
 * shared with 1.0.0. A frame that does not decode is answered with an error
 * frame for each request id it names; broken framing (a length prefix too
 * long or too large, a stream ending mid-frame) resets the stream. Nothing a
 * peer sends affects another stream.
 *
 * A frame's joined bytes and its widened byte tensors are borrowed from one
 * `ArrayPool` per handler and given back when the frame's last request is
 * answered (see `array-pool.ts`: fresh 602 KB arrays per image request made
 * the serving node's garbage collector its second-largest cost).
 */
import { AbortError, InvalidMessageError, PeerBusyError } from '../errors.js'
import { ArrayPool, DEFAULT_ARRAY_POOL_BYTES, FrameArrays } from './array-pool.js'
import { readFrames } from '../wire/framing.js'
import { sliceRows } from './batcher.js'
import {
  DEFAULT_INFER_STREAM_TIMEOUT_MS, DEFAULT_MAX_INFER_FRAME_BYTES, DEFAULT_PIPE_IDLE_TIMEOUT_MS, DEFAULT_PIPE_MAX_INBOUND_STREAMS,
  DEFAULT_PIPE_MAX_INFLIGHT, INFER_PIPE_PROTOCOL
} from './constants.js'
import { decodePipeInbound, encodePipeError, encodePipeResult, peekPipeIds } from './pipe-codec.js'
import { PipeWriter } from './pipe-writer.js'
import type { PooledArrayStats } from './array-pool.js'
import type { PipeEntry, PipeRequest } from './pipe-codec.js'
import type { Frame } from './pipe-writer.js'
import type { Uint8ArrayList } from '../wire/framing.js'
import type { Reservation, ServingGuard } from './serving-guard.js'
import type { LocalInvoker, ServerLoad } from './types.js'
import type { Connection, Logger, Startable, Stream } from '@libp2p/interface'
import type { Registrar } from '@libp2p/interface-internal'

export interface PipeHandlerInit {
  /** @default 8 MiB */
  maxFrameBytes?: number
  /** Requests in flight per stream. @default 64 */
  maxInFlight?: number
  /** A stream with nothing in flight for this long is closed, ms. @default 120000 */
  idleTimeoutMs?: number
  /** Longest deadline granted to a request, ms. @default 30000 */
  maxDeadlineMs?: number
  /** @default 64 */
  maxOutboundStreams?: number
  /** Free arrays kept for reuse by the next frames, bytes (see `array-pool.ts`). @default 16 MiB */
  arrayPoolBytes?: number
}

export interface PipeHandlerComponents {
  registrar: Pick<Registrar, 'handle' | 'unhandle'>
  engine: LocalInvoker
  guard: ServingGuard
  load?(): ServerLoad
  log: Logger
}

const NO_LOAD: ServerLoad = { outstanding: 0, capacity: 0 }

/** A frame's byte reservation and borrowed arrays, given back when its last request is answered. */
interface FrameBudget extends Reservation {
  left: number
  arrays?: FrameArrays
}

export class PipeHandler implements Startable {
  private readonly maxFrameBytes: number
  private readonly maxInFlight: number
  private readonly idleTimeoutMs: number
  private readonly maxDeadlineMs: number
  private readonly maxOutboundStreams: number
  private readonly pool: ArrayPool
  private started = false

  constructor (private readonly components: PipeHandlerComponents, init: PipeHandlerInit = {}) {
    this.maxFrameBytes = init.maxFrameBytes ?? DEFAULT_MAX_INFER_FRAME_BYTES
    this.maxInFlight = init.maxInFlight ?? DEFAULT_PIPE_MAX_INFLIGHT
    this.idleTimeoutMs = init.idleTimeoutMs ?? 2 * DEFAULT_PIPE_IDLE_TIMEOUT_MS
    this.maxDeadlineMs = init.maxDeadlineMs ?? DEFAULT_INFER_STREAM_TIMEOUT_MS
    this.maxOutboundStreams = init.maxOutboundStreams ?? DEFAULT_PIPE_MAX_INFLIGHT
    this.pool = new ArrayPool(init.arrayPoolBytes ?? DEFAULT_ARRAY_POOL_BYTES)
  }

  isStarted (): boolean {
    return this.started
  }

  pooledArrays (): PooledArrayStats {
    return { ...this.pool.counters, heldBytes: this.pool.heldBytes }
  }

  async start (): Promise<void> {
    if (this.started) return
    await this.components.registrar.handle(INFER_PIPE_PROTOCOL, this.handle, {
      maxInboundStreams: DEFAULT_PIPE_MAX_INBOUND_STREAMS,
      maxOutboundStreams: this.maxOutboundStreams
    })
    this.started = true
  }

  async stop (): Promise<void> {
    if (!this.started) return
    await this.components.registrar.unhandle(INFER_PIPE_PROTOCOL)
    this.started = false
  }

  /** The stream handler; never rejects. */
  readonly handle = async (stream: Stream, connection?: Connection): Promise<void> => {
    this.components.guard.counters.streams++
    await new ServedPipe(this.components, stream, connection?.remotePeer.toString() ?? '', {
      maxFrameBytes: this.maxFrameBytes, maxInFlight: this.maxInFlight, idleTimeoutMs: this.idleTimeoutMs, maxDeadlineMs: this.maxDeadlineMs
    }, this.pool).serve()
  }
}

/** One served 1.1.0 stream. */
class ServedPipe {
  private readonly inFlight = new Map<number, AbortController>()
  private readonly out: Frame[] = []
  private readonly writer: PipeWriter
  private idleTimer?: ReturnType<typeof setTimeout>
  /** Last frame received or request ended, ms (`performance.now()`). */
  private lastActivity = 0
  private drained?: () => void

  constructor (
    private readonly components: PipeHandlerComponents,
    private readonly stream: Stream,
    private readonly peer: string,
    private readonly limits: Required<Omit<PipeHandlerInit, 'maxOutboundStreams' | 'arrayPoolBytes'>>,
    private readonly pool: ArrayPool
  ) {
    this.writer = new PipeWriter(stream, () => this.out.splice(0), (err) => { this.fail(err) }, limits.maxFrameBytes)
  }

  async serve (): Promise<void> {
    const { guard, log } = this.components
    const onClose = (): void => { this.stop(new AbortError('stream closed by the caller')) }
    this.stream.addEventListener('close', onClose, { once: true })
    let budget: FrameBudget = { reserved: 0, left: 0 }
    let overBudget = false
    this.armIdle()
    try {
      const frames = readFrames(this.stream, {
        maxFrameBytes: this.limits.maxFrameBytes,
        onLength: (length) => {
          budget = { reserved: 0, left: 0 }
          overBudget = !guard.tryReserve(this.peer, length, budget)
        }
      })
      for await (const list of frames) {
        const arrays = new FrameArrays(this.pool)
        this.onFrame(joined(list, arrays), budget, overBudget, arrays)
        this.armIdle()
        // A caller that does not read its replies is not read either: replies waiting
        // to be sent stay within the in-flight limit, and the transport pushes back.
        while (this.out.length >= this.limits.maxInFlight && this.writer.busy) await this.writer.idle()
      }
      // The caller closed its side: answer what is in flight, then close ours.
      if (this.inFlight.size > 0) await new Promise<void>(resolve => { this.drained = resolve })
      await this.writer.idle()
      await this.stream.close()
    } catch (err: any) {
      // Broken framing or a reset: the stream cannot carry more frames.
      if (err?.name === 'MessageTooLargeError' || err?.name === 'InvalidMessageError' || err?.name === 'ProtocolError') guard.malformed(this.peer)
      log('infer 1.1.0 stream from %s ended: %e', this.peer, err)
      this.fail(err instanceof Error ? err : new Error(String(err)))
    } finally {
      clearTimeout(this.idleTimer)
      this.stream.removeEventListener('close', onClose)
      this.stop(new AbortError('stream done'))
      guard.release(this.peer, budget)
    }
  }

  /**
   * Something happened (a frame, a request ended): the stream is idle once nothing is in
   * flight for `idleTimeoutMs` after the last such event. One timer per idle period, set
   * again for what is left when it fires early, not one per frame.
   */
  private armIdle (): void {
    this.lastActivity = performance.now()
    if (this.idleTimer == null) this.idleAfter(this.limits.idleTimeoutMs)
  }

  private idleAfter (ms: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined
      // Busy: the last request to end arms the timer again.
      if (this.inFlight.size > 0 || this.stream.status !== 'open') return
      const left = this.lastActivity + this.limits.idleTimeoutMs - performance.now()
      if (left > 0) { this.idleAfter(left); return }
      // Replies stuck behind a caller that stopped reading: no graceful close is possible.
      if (this.writer.busy) this.stream.abort(new AbortError('infer stream idle with unread replies'))
      else void this.stream.close().catch(() => { this.stream.abort(new AbortError('idle')) })
    }, ms)
    this.idleTimer.unref?.()
  }

  /** The stream is gone: drop every request still in flight on it. */
  private stop (reason: Error): void {
    for (const controller of this.inFlight.values()) controller.abort(reason)
  }

  private fail (err: Error): void {
    this.components.guard.counters.aborted++
    this.stop(err)
    if (this.stream.status === 'open') this.stream.abort(err)
  }

  private reply (frame: Frame): void {
    this.out.push(frame)
    this.writer.kick()
  }

  private load (): ServerLoad {
    return this.components.load?.() ?? NO_LOAD
  }

  private refuse (id: number, err: Error): void {
    this.components.guard.counters.errorReplies++
    this.reply(encodePipeError(id, err, this.load()))
  }

  private onFrame (bytes: Uint8Array, budget: FrameBudget, overBudget: boolean, arrays: FrameArrays): void {
    const { guard } = this.components
    let frame: PipeRequest | { cancel: number }
    try {
      frame = decodePipeInbound(bytes, { maxFrameBytes: this.limits.maxFrameBytes, arrays })
    } catch (err: any) {
      guard.release(this.peer, budget)
      guard.malformed(this.peer)
      const ids = peekPipeIds(bytes)
      for (const id of ids.length === 0 ? [0] : ids) this.reply(encodePipeError(id, err, this.load()))
      // `bytes` may be a borrowed array: given back only once nothing reads it.
      arrays.release()
      return
    }
    if ('cancel' in frame) {
      arrays.release()
      guard.release(this.peer, budget)
      const cancelled = this.inFlight.get(frame.cancel)
      if (cancelled != null && !cancelled.signal.aborted) {
        guard.counters.cancelled++
        cancelled.abort(new AbortError('cancelled by the caller'))
      }
      return
    }
    if (overBudget) {
      arrays.release()
      for (const entry of frame.entries) {
        guard.malformed()
        this.reply(encodePipeError(entry.id, new PeerBusyError('more request bytes in flight from this peer than its budget'), this.load()))
      }
      return
    }
    budget.left = frame.entries.length
    budget.arrays = arrays
    let row = 0
    for (const entry of frame.entries) {
      const inputs = frame.entries.length === 1 ? frame.inputs : sliceRows(frame.inputs, row, row + entry.rows)
      row += entry.rows
      this.admit(frame.modelId, entry, inputs, budget)
    }
  }

  /** Run one request of a frame, or refuse it at once. */
  private admit (modelId: string, entry: PipeEntry, inputs: PipeRequest['inputs'], budget: FrameBudget): void {
    const done = (): void => {
      if (--budget.left > 0) return
      this.components.guard.release(this.peer, budget)
      budget.arrays?.release()
    }
    if (this.inFlight.has(entry.id)) {
      this.components.guard.malformed(this.peer)
      this.refuse(entry.id, new InvalidMessageError(`request id ${entry.id} is already in flight`))
      done()
      return
    }
    if (this.inFlight.size >= this.limits.maxInFlight) {
      this.refuse(entry.id, new PeerBusyError(`more than ${this.limits.maxInFlight} requests in flight on this stream`))
      done()
      return
    }
    // One controller per request, aborted by a cancel or when the stream goes (`stop`): no
    // AbortSignal.any per request on the hot path.
    const controller = new AbortController()
    this.inFlight.set(entry.id, controller)
    const signal = controller.signal
    const deadlineMs = Math.min(entry.deadlineMs, this.limits.maxDeadlineMs)
    void this.components.engine(modelId, inputs, { deadlineMs, signal }).then(
      (result) => {
        try {
          this.reply(encodePipeResult(entry.id, result, this.load(), { maxFrameBytes: this.limits.maxFrameBytes }))
          this.components.guard.counters.served++
        } catch (err: any) {
          this.refuse(entry.id, err)
        }
      },
      (err) => { if (!signal.aborted) this.refuse(entry.id, err) }
    ).finally(() => {
      this.inFlight.delete(entry.id)
      done()
      if (this.inFlight.size === 0) {
        this.armIdle()
        this.drained?.()
      }
    })
  }
}

/** A frame's bytes in one array: the transport's chunk itself, or the chunks joined into a borrowed array. */
function joined (list: Uint8ArrayList, arrays: FrameArrays): Uint8Array {
  const chunks = [...list]
  if (chunks.length === 1) return chunks[0]
  const out = arrays.take(Uint8Array, list.byteLength)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}
