/**
 * What both inference protocols (`/edge-mesh/infer/1.0.0` and `1.1.0`) enforce
 * on the peers they serve, in one place so the two cannot drift: the per-peer
 * budget of request bytes in flight, the count of malformed frames per peer
 * (a peer past `MAX_MALFORMED_PER_WINDOW` within `MALFORMED_WINDOW_MS` is
 * reported to `onAbuse`, which bans it), and the counters behind status and
 * /metrics.
 */
import { PeerBusyError } from '../errors.js'
import { MALFORMED_WINDOW_MS, MAX_MALFORMED_PER_WINDOW } from './constants.js'

/** Counters of the inference handlers (both protocols together). */
export interface InferHandlerStats {
  /** Streams handled. */
  streams: number
  /** Requests answered with outputs. */
  served: number
  /** Requests answered with an error frame (busy, unknown model, malformed ...). */
  errorReplies: number
  /** Frames whose bytes did not decode. */
  malformed: number
  /** Streams aborted (timeout, reset, write failure). */
  aborted: number
  /** Peers reported for sending too many malformed frames. */
  abusers: number
  /** 1.1.0 requests the caller cancelled while they were in flight here. */
  cancelled: number
}

/** A reservation of request bytes against a peer's budget; `release` is idempotent. */
export interface Reservation {
  reserved: number
}

export class ServingGuard {
  readonly counters: InferHandlerStats = { streams: 0, served: 0, errorReplies: 0, malformed: 0, aborted: 0, abusers: 0, cancelled: 0 }
  /** Announced request bytes in flight, per peer. */
  private readonly inflight = new Map<string, number>()
  /** Malformed frames per peer in the current window. */
  private malformedByPeer = new Map<string, number>()
  private windowStartedAt = 0

  constructor (private readonly maxPeerInflightBytes: number, private readonly onAbuse?: (peerId: string) => void) {}

  /** Reserve a frame's announced length against the peer's budget, or throw PeerBusyError. */
  reserve (peer: string, length: number, budget: Reservation): void {
    if (!this.tryReserve(peer, length, budget)) {
      throw new PeerBusyError(`more than ${this.maxPeerInflightBytes} request bytes in flight from this peer`)
    }
  }

  /** Reserve a frame's announced length if the peer's budget allows it. */
  tryReserve (peer: string, length: number, budget: Reservation): boolean {
    const used = this.inflight.get(peer) ?? 0
    if (used + length > this.maxPeerInflightBytes) return false
    this.inflight.set(peer, used + length)
    budget.reserved += length
    return true
  }

  /** Give back everything `budget` holds. */
  release (peer: string, budget: Reservation): void {
    if (budget.reserved === 0) return
    const left = (this.inflight.get(peer) ?? 0) - budget.reserved
    budget.reserved = 0
    if (left <= 0) this.inflight.delete(peer)
    else this.inflight.set(peer, left)
  }

  /** Count a malformed frame; its sender (when known and not merely over budget) counts towards a ban. */
  malformed (abuser?: string): void {
    this.counters.malformed++
    this.counters.errorReplies++
    if (abuser != null && abuser !== '') this.countAbuse(abuser)
  }

  private countAbuse (peer: string): void {
    const now = performance.now()
    if (now - this.windowStartedAt > MALFORMED_WINDOW_MS) {
      this.malformedByPeer = new Map()
      this.windowStartedAt = now
    }
    const count = (this.malformedByPeer.get(peer) ?? 0) + 1
    this.malformedByPeer.set(peer, count)
    if (count === MAX_MALFORMED_PER_WINDOW) {
      this.counters.abusers++
      this.onAbuse?.(peer)
    }
  }
}
