/**
 * The calling side of one `/edge-mesh/infer/1.1.0` stream: requests to one
 * peer, pipelined and id-tagged, answered in any order.
 *
 * - At most `maxInFlight` requests are in flight; more wait here for a slot
 *   (within their own deadline) rather than be refused busy by the server.
 * - At most `maxInFlightBytes` of request frames are unanswered (the server's
 *   budget of request bytes in flight per caller, counted as it does: a frame
 *   until its last request is answered); a frame that would go beyond it waits
 *   here, queued, unless nothing is in flight.
 * - Coalescing (`coalesce`): requests queued when the writer runs (see
 *   `pipe-writer.ts`) go in one frame per model and input key, at most
 *   `maxCoalesceRequests` per frame and never above `maxFrameBytes`.
 * - Each request has its own deadline; when it passes or the caller's signal
 *   aborts, the request fails at once (DeadlineExceededError, AbortError) and,
 *   if it was sent, a cancel frame tells the server to drop it.
 * - The session ends (every request still waiting fails with ProtocolError, and
 *   the owner opens a new stream on the next request) when the stream closes
 *   or resets, when a response does not decode, or after `idleTimeoutMs` with
 *   nothing in flight (then it closes the stream itself).
 */
import { AbortError, DeadlineExceededError, ProtocolError } from '../errors.js'
import { readFrames } from '../wire/framing.js'
import { errorFromCode } from '../wire/error-codes.js'
import { decodePipeResponse, encodePipeCancel, encodePipeRequest, requestFrameBytes } from './pipe-codec.js'
import { PipeWriter } from './pipe-writer.js'
import type { PipeEntry, WireInput } from './pipe-codec.js'
import type { Frame } from './pipe-writer.js'
import type { ServedResult } from './types.js'
import type { AbortOptions, Stream } from '@libp2p/interface'

export interface PipeSessionInit {
  maxInFlight: number
  /** Request-frame bytes unanswered at once (the server refuses PeerBusy beyond its budget). */
  maxInFlightBytes: number
  maxFrameBytes: number
  coalesce: boolean
  maxCoalesceRequests: number
  idleTimeoutMs: number
  /** Called once when the session ends. */
  onEnd?(): void
}

/** A request prepared for the wire (see `toWireInputs`, `wireKey`). */
export interface PipeCall {
  modelId: string
  key: string
  inputs: WireInput[]
  rows: number
  /** Size of the request's frame when sent alone (`requestFrameBytes`), bytes. */
  frameBytes?: number
}

interface Pending extends PipeCall {
  id: number
  deadlineAt: number
  sent: boolean
  /** The frame it went in, once sent. */
  frame?: SentFrame
  settle(err: Error | undefined, result?: ServedResult): void
}

/** A sent request frame: its bytes count against `maxInFlightBytes` until its last request settles. */
interface SentFrame {
  bytes: number
  left: number
}

const MAX_U32 = 0xffff_ffff

export class PipeSession {
  private readonly pending = new Map<number, Pending>()
  private queued: Pending[] = []
  private readonly cancels: number[] = []
  private slotWaiters: Array<() => void> = []
  private readonly writer: PipeWriter
  private nextId = 1
  /** Bytes of sent frames not yet wholly answered. */
  private bytesInFlight = 0
  private ended = false
  private idleTimer?: ReturnType<typeof setTimeout>
  /** When the last request in flight ended, ms (`performance.now()`). */
  private idleSince = 0

  constructor (private readonly stream: Stream, private readonly init: PipeSessionInit) {
    this.writer = new PipeWriter(stream, () => this.collect(), (err) => { this.end(err) }, init.maxFrameBytes)
    void this.read()
    this.armIdle()
  }

  /** False once the session ended: its owner must open a new one. */
  get open (): boolean {
    return !this.ended
  }

  /** Requests waiting for an answer. */
  get inFlight (): number {
    return this.pending.size
  }

  /** Send one request and wait for its answer; rejects with the server's named error or a transport failure. */
  async call (call: PipeCall, options: AbortOptions & { deadlineMs: number }): Promise<ServedResult> {
    const deadlineAt = performance.now() + options.deadlineMs
    while (this.pending.size >= this.init.maxInFlight && !this.ended) await this.slot(options.signal, deadlineAt)
    if (this.ended) throw new ProtocolError('infer stream closed')
    const id = this.allocateId()
    return await new Promise<ServedResult>((resolve, reject) => {
      const onAbort = (): void => { this.give(id, new AbortError('infer aborted'), true) }
      const timer = setTimeout(() => { this.give(id, new DeadlineExceededError(`no answer to infer within ${options.deadlineMs} ms`), true) }, Math.max(0, options.deadlineMs))
      options.signal?.addEventListener('abort', onAbort, { once: true })
      const settle = (err: Error | undefined, result?: ServedResult): void => {
        clearTimeout(timer)
        options.signal?.removeEventListener('abort', onAbort)
        if (err != null) reject(err)
        else resolve(result as ServedResult)
      }
      const pending: Pending = { ...call, id, deadlineAt, sent: false, settle }
      this.pending.set(id, pending)
      this.queued.push(pending)
      this.writer.kick()
    })
  }

  /** Close the stream gracefully (requests in flight fail). */
  close (): void {
    this.end(new ProtocolError('infer session closed'), true)
  }

  /** Wait until a slot frees, the session ends, or the request's own deadline or signal ends the wait. */
  private async slot (signal: AbortSignal | undefined, deadlineAt: number): Promise<void> {
    signal?.throwIfAborted()
    const left = deadlineAt - performance.now()
    if (left <= 0) throw new DeadlineExceededError('no free request slot on the infer stream before the deadline')
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        this.slotWaiters = this.slotWaiters.filter(w => w !== wake)
        if (err != null) reject(err)
        else resolve()
      }
      const wake = (): void => { done() }
      const onAbort = (): void => { done(new AbortError('infer aborted')) }
      const timer = setTimeout(() => { done(new DeadlineExceededError('no free request slot on the infer stream before the deadline')) }, left)
      signal?.addEventListener('abort', onAbort, { once: true })
      this.slotWaiters.push(wake)
    })
  }

  private allocateId (): number {
    while (this.pending.has(this.nextId)) this.nextId = this.nextId >= MAX_U32 ? 1 : this.nextId + 1
    const id = this.nextId
    this.nextId = id >= MAX_U32 ? 1 : id + 1
    return id
  }

  /** Settle request `id` (once); `cancel`: tell the server if the request was sent. */
  private give (id: number, err: Error | undefined, cancel: boolean, result?: ServedResult): void {
    const pending = this.pending.get(id)
    if (pending == null) return
    this.pending.delete(id)
    if (!pending.sent) this.queued = this.queued.filter(p => p !== pending)
    else if (cancel && !this.ended) {
      this.cancels.push(id)
      this.writer.kick()
    }
    if (pending.frame != null && --pending.frame.left === 0) {
      this.bytesInFlight -= pending.frame.bytes
      if (this.queued.length > 0) this.writer.kick()
    }
    pending.settle(err, result)
    this.slotWaiters[0]?.()
    if (this.pending.size === 0) this.armIdle()
  }

  /** The writer's turn: cancels, then the queued requests as coalesced frames, within the byte budget. */
  private collect (): Frame[] {
    const frames: Frame[] = this.cancels.splice(0).map(id => encodePipeCancel(id))
    const queued = this.queued
    this.queued = []
    const held: Pending[] = []
    const now = performance.now()
    for (const group of this.groups(queued)) {
      const bytes = (group.length === 1 ? group[0].frameBytes : undefined) ?? requestFrameBytes(group[0].modelId, group.map(p => p.inputs))
      if (this.bytesInFlight > 0 && this.bytesInFlight + bytes > this.init.maxInFlightBytes) {
        held.push(...group)
        continue
      }
      const entries: PipeEntry[] = group.map(p => ({ id: p.id, rows: p.rows, deadlineMs: Math.max(1, Math.floor(p.deadlineAt - now)) }))
      try {
        frames.push(encodePipeRequest(group[0].modelId, entries, group.map(p => p.inputs), { maxFrameBytes: this.init.maxFrameBytes, frameBytes: bytes }))
        const frame: SentFrame = { bytes, left: group.length }
        this.bytesInFlight += bytes
        for (const p of group) { p.sent = true; p.frame = frame }
      } catch (err: any) {
        for (const p of group) this.give(p.id, err, false)
      }
    }
    // Held requests keep their place: they go first when an answer frees bytes.
    this.queued = [...held, ...this.queued]
    return frames
  }

  /** Split queued requests into frames: same key, at most `maxCoalesceRequests`, within the frame size and the byte budget. */
  private groups (queued: Pending[]): Pending[][] {
    if (!this.init.coalesce || queued.length === 1) return queued.map(p => [p])
    const byKey = new Map<string, Pending[][]>()
    for (const p of queued) {
      const groups = byKey.get(p.key) ?? []
      byKey.set(p.key, groups)
      const last = groups[groups.length - 1]
      const fits = last != null && last.length < this.init.maxCoalesceRequests &&
        requestFrameBytes(p.modelId, [...last, p].map(q => q.inputs)) <= Math.min(this.init.maxFrameBytes, this.init.maxInFlightBytes)
      if (fits) last.push(p)
      else groups.push([p])
    }
    return [...byKey.values()].flat()
  }

  private async read (): Promise<void> {
    let reason: Error = new ProtocolError('infer stream closed by the peer')
    let graceful = true
    try {
      for await (const list of readFrames(this.stream, { maxFrameBytes: this.init.maxFrameBytes })) {
        const response = decodePipeResponse(list.subarray(), { maxFrameBytes: this.init.maxFrameBytes })
        if (response.type === 'error') {
          this.give(response.id, errorFromCode(response.code, response.message), false)
        } else {
          const { outputs, queueMs, computeMs, batchSize, load } = response
          this.give(response.id, undefined, false, { outputs, queueMs, computeMs, batchSize, serverLoad: load })
        }
      }
    } catch (err: any) {
      graceful = false
      reason = err?.name === 'InvalidMessageError' ? new ProtocolError(`bad response on the infer stream: ${String(err.message)}`) : err
    }
    this.end(reason, graceful)
  }

  /**
   * Nothing in flight from now on. One timer per idle period, not one per
   * request: when it fires early (the session was busy meanwhile) it is set
   * again for what is left of the idle time since the last request ended.
   */
  private armIdle (): void {
    this.idleSince = performance.now()
    if (this.idleTimer == null) this.idleAfter(this.init.idleTimeoutMs)
  }

  private idleAfter (ms: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined
      // Busy: the last request to end arms the timer again.
      if (this.ended || this.pending.size > 0) return
      const left = this.idleSince + this.init.idleTimeoutMs - performance.now()
      if (left > 0) this.idleAfter(left)
      else this.end(new ProtocolError('infer stream idle'), true)
    }, ms)
    // Housekeeping only: an idle stream must not keep the process alive.
    this.idleTimer.unref?.()
  }

  /** End the session: fail what waits, close (`graceful`) or abort the stream, tell the owner. */
  private end (reason: Error, graceful = false): void {
    if (this.ended) return
    this.ended = true
    clearTimeout(this.idleTimer)
    for (const id of [...this.pending.keys()]) this.give(id, reason, false)
    for (const wake of this.slotWaiters) wake()
    if (graceful && this.stream.status === 'open') void this.stream.close().catch(() => {})
    else if (this.stream.status === 'open') this.stream.abort(reason)
    this.init.onEnd?.()
  }
}
