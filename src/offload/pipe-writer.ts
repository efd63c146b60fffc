/**
 * The sending half of a `/edge-mesh/infer/1.1.0` stream, shared by caller and
 * server: frames waiting when the writer runs leave in ONE `send()` (their
 * length prefixes and bytes as one Uint8ArrayList, not copied), so a burst of
 * requests or replies costs one muxer frame, one Noise message and one socket
 * write instead of one per frame (and a send of up to `MAX_JOINED_SEND_BYTES`
 * is one contiguous buffer, so its chunks do not each cost a socket write).
 *
 * When the writer is idle, a kick sends at the end of the current microtask
 * queue: a lone request (or reply) never waits for a timer or an event-loop
 * turn, and everything queued by the same burst of promise callbacks (a
 * `Promise.all` of requests, a micro-batch's replies) still leaves together.
 * After a send the writer stays "warm" until the end of the event-loop turn
 * (`setImmediate`): frames queued meanwhile go together in one more send then.
 * When the stream asks for backpressure (`send()` returns false) it waits for
 * `onDrain()` and frames queue meanwhile. `collect` hands over the frames to
 * send: the caller's session builds coalesced request frames there.
 */
import * as lp from 'it-length-prefixed'
import { Uint8ArrayList } from '../wire/framing.js'
import { MAX_JOINED_SEND_BYTES } from './constants.js'
import type { MessageStream } from '@libp2p/interface'

export type Frame = Uint8Array | Uint8ArrayList

export class PipeWriter {
  private scheduled = false
  private writing = false
  /** A send happened during this event-loop turn: later frames wait for its end. */
  private warm = false
  private idleWaiters: Array<() => void> = []

  constructor (
    private readonly stream: MessageStream,
    private readonly collect: () => Frame[],
    private readonly onError: (err: Error) => void,
    private readonly maxFrameBytes: number
  ) {}

  /** Frames are waiting: run the writer soon (see the module documentation). */
  kick (): void {
    if (this.scheduled || this.writing) return
    this.scheduled = true
    if (this.warm) return
    queueMicrotask(() => { void this.flush() })
  }

  /** True while a send is in progress or scheduled. */
  get busy (): boolean {
    return this.scheduled || this.writing
  }

  /** The end of the turn after a send: send what queued meanwhile, or cool down. */
  private readonly cool = (): void => {
    this.warm = false
    if (this.scheduled && !this.writing) void this.flush()
  }

  /** Resolves once nothing is scheduled or being sent. */
  async idle (): Promise<void> {
    if (!this.busy) return
    await new Promise<void>(resolve => { this.idleWaiters.push(resolve) })
  }

  private async flush (): Promise<void> {
    this.scheduled = false
    if (this.writing) return
    this.writing = true
    try {
      while (true) {
        const frames = this.collect()
        if (frames.length === 0) break
        const out = new Uint8ArrayList()
        for (const frame of frames) out.append(lp.encode.single(frame, { maxDataLength: this.maxFrameBytes }))
        if (!this.warm) {
          this.warm = true
          setImmediate(this.cool)
        }
        // One contiguous buffer: one socket write instead of one per chunk (see MAX_JOINED_SEND_BYTES).
        if (!this.stream.send(out.byteLength <= MAX_JOINED_SEND_BYTES ? out.subarray() : out)) await this.stream.onDrain()
      }
    } catch (err: any) {
      this.onError(err instanceof Error ? err : new Error(String(err)))
    } finally {
      this.writing = false
      const waiters = this.idleWaiters
      this.idleWaiters = []
      for (const resolve of waiters) resolve()
    }
  }
}
