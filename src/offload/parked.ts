/**
 * The offload client's late binding (see `client.ts`): when a request waits
 * (is parked) instead of going to a saturated node, where a freed slot sends
 * a parked request, and the waiting room itself.
 */
import { isSaturated } from './scheduler.js'
import { DEFAULT_REMOTE_PIPELINE_EXTRA, MAX_REMOTE_PIPELINE_EXTRA, PIPELINE_SAMPLE_WEIGHT } from './scheduler-constants.js'
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
  /** Extra requests per peer on the wire (see `pipelineExtra`); a peer not in it gets `DEFAULT_REMOTE_PIPELINE_EXTRA`. */
  extra?: ReadonlyMap<string, number>
  /**
   * Requests of this size that fit in a peer's budget of request bytes in
   * flight (see `requestsWithinBudget`): a peer already holding that many of
   * this node's requests is full, whatever its depth, because the next one
   * would be refused PeerBusy. @default no limit
   */
  maxPerPeer?: number
}

/**
 * How many requests of `requestBytes` fit at once in a serving peer's budget
 * of request bytes in flight from one caller (`budgetBytes`; the server
 * answers PeerBusy beyond it), at least 1: a request alone above the budget is
 * the server's to refuse.
 */
export function requestsWithinBudget (requestBytes: number, budgetBytes: number): number {
  if (!(requestBytes > 0) || !(budgetBytes > 0)) return Infinity
  return Math.max(1, Math.floor(budgetBytes / requestBytes))
}

/**
 * Requests per slot that saturate `c`: `perSlot`, plus `extra` for a peer,
 * whose next request spends a round trip (and a wait in this node's event loop,
 * busy with its own inferences) before the peer can start it; without the extra
 * requests the peer idles between answers and a burst stays mostly here.
 */
export function depthOf (c: Candidate, perSlot: number, extra = DEFAULT_REMOTE_PIPELINE_EXTRA): number {
  return c.local ? perSlot : perSlot + extra
}

/**
 * How many requests beyond `perSlot` a peer should hold so it never waits for
 * its next one: the time from its answer to the arrival of the request that
 * replaces it (`gapMs`: the round trip and this node's delays, measured as an
 * attempt's time minus the peer's queue and compute) over the peer's service
 * time per request (`serviceMs`), rounded up, between
 * `DEFAULT_REMOTE_PIPELINE_EXTRA` and `MAX_REMOTE_PIPELINE_EXTRA`. A slow peer
 * (long service) gets the least; a fast model behind a long round trip the most.
 */
export function pipelineExtra (serviceMs: number, gapMs: number): number {
  if (!(serviceMs > 0) || !(gapMs >= 0)) return DEFAULT_REMOTE_PIPELINE_EXTRA
  const wanted = Math.ceil(gapMs / serviceMs)
  return Math.min(MAX_REMOTE_PIPELINE_EXTRA, Math.max(DEFAULT_REMOTE_PIPELINE_EXTRA, wanted))
}

/** True when `c` holds its full depth of requests (see `depthOf`), or, a peer, as many of this node's requests as its byte budget takes. */
function full (state: LateBindingState, c: Candidate): boolean {
  if (!c.local && state.maxPerPeer != null && (state.outstanding.get(c.peerId) ?? 0) >= state.maxPerPeer) return true
  return isSaturated(c, state.outstanding, depthOf(c, state.perSlot, state.extra?.get(c.peerId)))
}

/**
 * The holders that still have room (not at their depth), for a request whose
 * chosen node is saturated: rather than wait parked while another node could
 * start it, it goes to one of these (the scheduler chooses among them). Work
 * thus goes wherever there is room, and waits only when every node is full.
 */
export function withRoom (state: LateBindingState): Candidate[] {
  return state.candidates.filter(c => c.hasModel && !full(state, c))
}

/** Only an `auto` request on its first attempt may wait: the test that needs no load state, so callers can skip building it. */
export function mayPark (prefer: LateBindingState['prefer'], attempts: number): boolean {
  return prefer === 'auto' && attempts === 0
}

/**
 * An `auto` request on its first attempt, with more than one candidate, waits
 * when the chosen node is saturated. Retries and `local`/`remote` requests never wait.
 */
export function shouldPark (state: LateBindingState, chosen: Candidate): boolean {
  if (!mayPark(state.prefer, state.attempts) || state.perSlot <= 0 || state.candidates.length < 2) return false
  return full(state, chosen)
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

/**
 * Per peer, running averages of its service time and of the gap around it (an
 * attempt's time minus the peer's queue and compute), from this node's answered
 * requests; `extras()` gives each peer's `pipelineExtra`. Bounded by the peers
 * answering this node; `forget` drops a peer.
 */
export class PipelineDepths {
  private readonly peers = new Map<string, { serviceMs: number, gapMs: number }>()

  constructor (private readonly weight = PIPELINE_SAMPLE_WEIGHT) {}

  /** A peer answered an attempt of `attemptMs` after `queueMs` in its queue and `computeMs` of compute. */
  observe (peerId: string, attemptMs: number, queueMs: number, computeMs: number): void {
    const gapMs = Math.max(0, attemptMs - queueMs - computeMs)
    if (!Number.isFinite(gapMs) || !(computeMs > 0)) return
    const current = this.peers.get(peerId)
    if (current == null) { this.peers.set(peerId, { serviceMs: computeMs, gapMs }); return }
    const w = this.weight
    this.peers.set(peerId, { serviceMs: (1 - w) * current.serviceMs + w * computeMs, gapMs: (1 - w) * current.gapMs + w * gapMs })
  }

  forget (peerId: string): void {
    this.peers.delete(peerId)
  }

  extras (): Map<string, number> {
    return new Map([...this.peers].map(([peerId, p]) => [peerId, pipelineExtra(p.serviceMs, p.gapMs)]))
  }
}
