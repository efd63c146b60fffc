/**
 * The offload client's late binding (see `client.ts`): when a request waits
 * (is parked) instead of going to a saturated node, where a freed slot sends
 * a parked request, and the waiting room itself.
 */
import { isSaturated } from './scheduler.js'
import { DEFAULT_REMOTE_PIPELINE_EXTRA } from './scheduler-constants.js'
import type { Candidate } from './scheduler.js'
import type { Preference } from './types.js'

/** What the late-binding decisions look at for one request. */
export interface LateBindingState {
  prefer: Preference
  /** Attempts the request has made so far. */
  attempts: number
  candidates: Candidate[]
  /** Requests per slot that make a node saturated; 0 turns late binding off. */
  perSlot: number
  /** This node's requests outstanding per peer id. */
  outstanding: ReadonlyMap<string, number>
}

/**
 * Requests per slot that saturate `c`: `perSlot`, plus `DEFAULT_REMOTE_PIPELINE_EXTRA`
 * for a peer, whose next request spends a round trip (and a wait in this node's
 * event loop, busy with its own inferences) before the peer can start it; without
 * the extra request the peer idles between answers and a burst stays mostly here.
 */
export function depthOf (c: Candidate, perSlot: number): number {
  return c.local ? perSlot : perSlot + DEFAULT_REMOTE_PIPELINE_EXTRA
}

/**
 * An `auto` request on its first attempt, with more than one candidate, waits
 * when the chosen node is saturated. Retries and `local`/`remote` requests never wait.
 */
export function shouldPark (state: LateBindingState, chosen: Candidate): boolean {
  if (state.prefer !== 'auto' || state.attempts > 0 || state.perSlot <= 0 || state.candidates.length < 2) return false
  return isSaturated(chosen, state.outstanding, depthOf(chosen, state.perSlot))
}

/** The candidate `peerId`, which just freed a slot, when a parked request may go there: a holder, not tried, not in backoff, not saturated. */
export function pullCandidate (state: LateBindingState, peerId: string, tried: ReadonlySet<string>, backedOff: ReadonlySet<string>): Candidate | undefined {
  const candidate = state.candidates.find(c => c.peerId === peerId)
  if (candidate == null || !candidate.hasModel || tried.has(peerId)) return undefined
  if (!candidate.local && backedOff.has(peerId)) return undefined
  return shouldPark(state, candidate) ? undefined : candidate
}

/**
 * The parked requests of late binding, oldest first. A freed slot wakes the
 * oldest; while any request is parked, one timer also wakes the oldest every
 * `recheckMs` (peers' load changes arrive by gossip, not as attempt endings).
 * A woken request is out of the queue until it parks again.
 */
export class ParkedQueue {
  private readonly queue: Array<(freed?: string) => void> = []
  private timer?: ReturnType<typeof setTimeout>

  constructor (private readonly recheckMs: number) {}

  park (wake: (freed?: string) => void, front: boolean): void {
    if (this.queue.includes(wake)) return
    if (front) this.queue.unshift(wake)
    else this.queue.push(wake)
    this.arm()
  }

  remove (wake: (freed?: string) => void): void {
    const i = this.queue.indexOf(wake)
    if (i !== -1) this.queue.splice(i, 1)
    if (this.queue.length === 0) { clearTimeout(this.timer); this.timer = undefined }
  }

  wakeOldest (freed?: string): void {
    const first = this.queue.shift()
    if (this.queue.length === 0) { clearTimeout(this.timer); this.timer = undefined }
    first?.(freed)
  }

  private arm (): void {
    if (this.timer != null) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.wakeOldest()
      if (this.queue.length > 0) this.arm()
    }, this.recheckMs)
  }
}
