/**
 * The requesting side of offload: the attempt loop that makes sure every
 * request ends, before its deadline, with a result or a typed error.
 *
 * Within the remaining deadline the loop asks the scheduler for a candidate,
 * runs the attempt (the {@link LocalInvoker} for this node, the
 * {@link RemoteInvoker} for a peer) and, on failure, tries another candidate:
 * - PeerBusyError, or DeadlineExceededError from the peer: short backoff of that peer, try elsewhere;
 * - any other failure (ModelNotFoundError from a peer whose gossip was stale,
 *   transport errors, protocol errors): the peer's backoff doubles, try elsewhere;
 * - InvalidTensorError: the inputs are wrong for the model, so no other node
 *   can do better: the request fails at once with it.
 * Candidates already tried are avoided while others are left; this node is never
 * backed off, so when every peer fails the request falls back to running locally
 * (when this node has or can fetch the model). When every candidate is in
 * backoff the loop waits for the earliest to expire, if that is before the deadline.
 *
 * Late binding: a `prefer: auto` request whose best node is saturated (see
 * `DEFAULT_PARK_LOAD_PER_SLOT`) goes to another holder with room, or, when every
 * node is full, waits here, parked; when one of this node's
 * attempts ends, the oldest parked request goes to the node that attempt
 * ran on (it has just freed a slot), so a burst flows to whichever node
 * frees a slot first, the way workers pull from a shared queue.
 *
 * Hedging: when an attempt runs longer than the observed p95 of this node's
 * requests, a second attempt starts on another candidate, at most one per
 * request and only with a token from the hedge budget (at most 5 % of
 * requests). The first answer wins; the other attempt is aborted.
 *
 * The request ends with DeadlineExceededError when the deadline passes, with
 * AbortError when the caller's signal aborts, with ModelNotFoundError when no
 * node holds the model, or with AllPeersFailedError holding every attempt's error.
 */
import { logger } from '@libp2p/logger'
import { AbortError, ModelNotFoundError } from '../errors.js'
import { EventQueue, runAttempt, toError } from './attempt.js'
import { mayPark, ParkedQueue, PipelineDepths, pullCandidate, requestsWithinBudget, shouldPark, withRoom } from './parked.js'
import type { LateBindingState } from './parked.js'
import type { Attempt } from './attempt.js'
import { backedOffPeers, emptyBackoff, pruneBackoff, recordBusy, recordFailure, recordSuccess } from './backoff.js'
import type { BackoffState } from './backoff.js'
import { clientConfig } from './client-config.js'
import type { ClientConfig, ClientCounters, ClientInit } from './client-config.js'
import { depositHedge, emptyHedgeBudget, withdrawHedge } from './hedge.js'
import type { HedgeBudget } from './hedge.js'
import { currentLatency, LatencyWindow, observeLatency } from './latency.js'
import type { PeakEwma } from './latency.js'
import { chooseByPolicy, INITIAL_POLICY_STATE } from './policy.js'
import type { PolicyState } from './policy.js'
import { candidateCost } from './scheduler.js'
import type { Candidate, Choice } from './scheduler.js'
import { PARK_RECHECK_MS } from './scheduler-constants.js'
import type { AttemptRecord, InferOptions, InferResult, ServedResult } from './types.js'
import type { TensorData } from '../model/types.js'
import type { Logger } from '@libp2p/interface'
import { allFailedError, attemptWork, deadlineExceededError, inferResult, isTerminal, LATENCY_FORGET_TAUS, newRequest, requestBytes } from './client-request.js'
import type { ClientRequest as Request, LoopEvent } from './client-request.js'
export type { ClientConfig, ClientCounters, ClientInit } from './client-config.js'

export class OffloadClient {
  private readonly init: ClientInit
  private readonly config: ClientConfig
  private readonly now: () => number
  private readonly random: () => number
  private readonly log: Logger
  private readonly window: LatencyWindow
  private readonly latency = new Map<string, PeakEwma>()
  private readonly outstanding = new Map<string, number>()
  private readonly active = new Set<AbortController>()
  /** Parked requests, oldest first (see `ParkedQueue`). */
  private readonly parked = new ParkedQueue(PARK_RECHECK_MS)
  /** How deep each peer's pipeline should be (late binding), from its answers. */
  private readonly depths = new PipelineDepths()
  private readonly records = new WeakMap<Attempt, AttemptRecord>()
  private backoff: BackoffState = emptyBackoff()
  private budget: HedgeBudget = emptyHedgeBudget()
  private policyState: PolicyState = INITIAL_POLICY_STATE
  private readonly counts: ClientCounters = { servedLocally: 0, servedRemotely: 0, failed: 0, hedges: 0, requests: 0, byPeer: {} }

  constructor (init: ClientInit) {
    this.init = init
    this.config = clientConfig(init.config)
    this.now = init.now ?? (() => performance.now())
    this.random = init.random ?? Math.random
    this.log = init.log ?? logger('edge-mesh:offload:client')
    this.window = new LatencyWindow(this.config.latencyWindow)
  }

  /** Run one request somewhere in the mesh; see the module documentation for the guarantees. */
  async infer (modelId: string, inputs: TensorData[], options: InferOptions = {}, hint: { among?: ReadonlySet<string> } = {}): Promise<InferResult> {
    if (options.signal?.aborted === true) throw new AbortError('request aborted by the caller')
    const deadlineMs = Math.max(0, options.deadlineMs ?? this.config.defaultDeadlineMs)
    const controller = new AbortController()
    const startedAt = this.now()
    const req = newRequest(modelId, inputs, options, startedAt, deadlineMs, controller.signal, hint.among)
    const timer = setTimeout(() => { controller.abort(deadlineExceededError(req)) }, deadlineMs)
    const onAbort = (): void => { controller.abort(new AbortError('request aborted by the caller')) }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    this.active.add(controller)
    this.counts.requests++
    this.budget = depositHedge(this.budget, this.config.hedgeBudget)
    try {
      const { attempt, result } = await this.loop(req)
      return this.succeed(req, attempt, result)
    } catch (err) {
      this.counts.failed++
      this.log('request for %s failed after %d attempts: %s', modelId, req.log.length, toError(err).name)
      throw err
    } finally {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      this.active.delete(controller)
    }
  }

  /** Abort every running request with `reason` (the service is stopping). */
  abortAll (reason: Error): void {
    for (const controller of this.active) controller.abort(reason)
  }

  counters (): ClientCounters {
    return { ...this.counts, byPeer: { ...this.counts.byPeer } }
  }

  /** A percentile (0..1) of this node's request latencies over the window, ms; 0 when empty. */
  percentile (q: number): number {
    return this.window.percentile(q, this.now()) ?? 0
  }

  /** The attempt loop of one request: resolves with the winning attempt or rejects with a typed error. */
  private async loop (req: Request): Promise<{ attempt: Attempt, result: ServedResult }> {
    const events = new EventQueue<LoopEvent>()
    const running = new Set<Attempt>()
    const timers = new Set<ReturnType<typeof setTimeout>>()
    const later = (ms: number, event: LoopEvent): void => {
      const t = setTimeout(() => { timers.delete(t); events.push(event) }, Math.max(0, ms))
      timers.add(t)
    }
    let hedgeTimer: ReturnType<typeof setTimeout> | undefined
    const onAbort = (): void => { events.push({ type: 'abort' }) }
    req.signal.addEventListener('abort', onAbort, { once: true })
    let freed: string | undefined
    let woken = false
    const wake = (peerId?: string): void => { freed = peerId; woken = true; events.push({ type: 'wake' }) }
    const start = (choice: Choice, hedge: boolean): void => {
      const attempt = this.start(req, choice, hedge)
      running.add(attempt)
      void attempt.done.then(outcome => { events.push({ type: 'settled', attempt, outcome }) })
      const p95 = this.hedgeDelay()
      if (hedge || req.hedged || p95 == null) return
      clearTimeout(hedgeTimer)
      hedgeTimer = setTimeout(() => { events.push({ type: 'hedge' }) }, p95)
    }
    const stopAll = (reason: Error | (() => Error)): void => {
      if (running.size === 0) return
      const error = typeof reason === 'function' ? reason() : reason
      for (const a of running) this.abandon(a, error)
      running.clear()
    }
    try {
      if (this.candidates(req).length === 0) throw new ModelNotFoundError(`no node holds model ${req.modelId}`)
      while (true) {
        if (req.signal.aborted) throw toError(req.signal.reason)
        if (running.size === 0) {
          this.next(req, start, later, wake, freed, woken)
          freed = undefined
          woken = false
        }
        const event = await events.next()
        req.turn++
        if (event.type === 'abort') throw toError(req.signal.reason)
        if (event.type === 'hedge' && running.size === 1 && !req.hedged) this.hedge(req, running, start)
        if (event.type !== 'settled' || !running.has(event.attempt)) continue
        running.delete(event.attempt)
        if (!event.attempt.hedge) clearTimeout(hedgeTimer)
        const { attempt, outcome } = event
        if (outcome.ok) {
          // An answer after the deadline is not a success (a synchronous local run can outlast the timer).
          if (this.now() > req.deadlineAt) {
            this.record(attempt, 'late')
            throw deadlineExceededError(req)
          }
          // The error is made only when another attempt runs (its stack costs more than the rest of a success).
          stopAll(() => new AbortError('another attempt answered first'))
          return { attempt, result: outcome.result }
        }
        if (req.signal.aborted) throw toError(req.signal.reason)
        this.fail(req, attempt, outcome.error)
        if (isTerminal(outcome.error)) throw outcome.error
      }
    } catch (err) {
      stopAll(toError(err))
      throw err
    } finally {
      for (const t of timers) clearTimeout(t)
      this.parked.remove(wake)
      clearTimeout(hedgeTimer)
      req.signal.removeEventListener('abort', onAbort)
    }
  }

  /** Nothing is running: start the next attempt, wait for a backoff to expire, or give up. */
  private next (req: Request, start: (c: Choice, hedge: boolean) => void, later: (ms: number, e: LoopEvent) => void,
    wake: (freed?: string) => void, freed?: string, woken = false): void {
    // Less than a whole millisecond left: no attempt can be given a deadline (the wire counts whole ms).
    if (req.deadlineAt - this.now() < 1) throw deadlineExceededError(req)
    if (req.log.length >= this.config.maxAttempts) throw allFailedError(req, 'attempt limit reached')
    const pulled = freed != null ? this.pull(req, freed) : undefined
    if (pulled != null) {
      start(pulled, false)
      return
    }
    const choice = this.choose(req, req.tried)
    if (choice != null && this.shouldPark(req, choice)) {
      // Another holder with room takes it; only when every node is full does it wait.
      const room = withRoom(this.lateBinding(req))
      const elsewhere = room.length > 0 ? this.choose(req, req.tried, room) : undefined
      if (elsewhere != null) { start(elsewhere, false); return }
      // A request woken without being placed keeps its turn at the front.
      this.parked.park(wake, woken)
      return
    }
    if (choice != null) { start(choice, false); return }
    const now = this.now()
    const candidates = new Set(this.candidates(req).map(c => c.peerId))
    const expiries = [...this.backoff.entries].filter(([p, e]) => candidates.has(p) && e.until > now).map(([, e]) => e.until)
    const wakeAt = Math.min(...expiries)
    if (!Number.isFinite(wakeAt) || wakeAt >= req.deadlineAt) throw allFailedError(req, 'no eligible candidate left')
    later(wakeAt - now, { type: 'wake' })
  }

  /** The hedge timer fired while one attempt runs: start a second one if allowed. */
  private hedge (req: Request, running: Set<Attempt>, start: (c: Choice, hedge: boolean) => void): void {
    if (req.log.length >= this.config.maxAttempts) return
    const busy = new Set([...req.tried, ...[...running].map(a => a.choice.candidate.peerId)])
    const choice = this.choose(req, busy)
    // A hedge is an optimisation, never a fallback: it does not break `prefer: remote`.
    if (choice == null || busy.has(choice.candidate.peerId) || choice.reason === 'fallback') return
    const { budget, granted } = withdrawHedge(this.budget)
    this.budget = budget
    if (!granted) return
    req.hedged = true
    this.counts.hedges++
    start(choice, true)
  }

  /** The policy's choice for `req` among its candidates (or among `only`, a subset of them). */
  private choose (req: Request, tried: ReadonlySet<string>, only?: Candidate[]): Choice | undefined {
    const now = this.now()
    this.forget(now)
    const candidates = only ?? this.candidates(req)
    const latencyMs = new Map(candidates.map(c => [c.peerId, currentLatency(this.latency.get(c.peerId), now, this.config.ewmaTauMs, this.config.scheduler.priorLatencyMs)]))
    const { choice, state } = chooseByPolicy(this.config.policy, candidates, {
      latencyMs, outstanding: this.outstanding, backedOff: backedOffPeers(this.backoff, now), tried, prefer: req.prefer, config: this.config.scheduler
    }, this.random, this.policyState)
    this.policyState = state
    return choice
  }

  /**
   * The request's candidates, computed once per turn of its loop: within a turn the
   * first check, the choice and the late-binding test all read the same list, and
   * the load they are built from (gossip, answers, this node's engine) only changes
   * between turns.
   */
  private candidates (req: Request): Candidate[] {
    if (req.cached?.turn !== req.turn) req.cached = { turn: req.turn, list: this.eligibleCandidates(req) }
    return req.cached.list
  }

  private eligibleCandidates (req: Request): Candidate[] {
    const all = this.init.candidates(req.modelId)
    const allowed = req.excluded.size === 0 ? all : all.filter(c => !req.excluded.has(c.peerId))
    if (req.among == null || req.log.length > 0) return allowed
    // The first attempt chooses among the probed pair (and this node); retries among everyone.
    const among = allowed.filter(c => c.local || req.among?.has(c.peerId) === true)
    return among.some(c => !c.local) ? among : allowed
  }

  /** Drop backoff entries and latency estimates too old to matter, so state stays as small as the live mesh. */
  private forget (now: number): void {
    this.backoff = pruneBackoff(this.backoff, now, this.config.backoff)
    for (const [peerId, e] of this.latency) {
      if (now - e.updatedAt > LATENCY_FORGET_TAUS * this.config.ewmaTauMs) { this.latency.delete(peerId); this.depths.forget(peerId) }
    }
  }

  private start (req: Request, choice: Choice, hedge: boolean): Attempt {
    const { peerId } = choice.candidate
    req.tried.add(peerId)
    this.outstanding.set(peerId, (this.outstanding.get(peerId) ?? 0) + 1)
    this.log('%s attempt %d of %s on %s (%s, cost %d)', hedge ? 'hedge' : 'start', req.log.length + 1, req.modelId, peerId, choice.reason, Math.round(choice.cost))
    // Whole milliseconds, rounded down so the attempt never outlives the request.
    const remaining = (): number => Math.max(0, Math.floor(req.deadlineAt - this.now()))
    const attempt = runAttempt(choice, hedge, this.now(), req.signal, attemptWork(this.init, req, choice, remaining))
    const record: AttemptRecord = { peerId, outcome: 'pending', ms: 0, ...(hedge ? { hedge: true } : {}) }
    req.log.push(record)
    this.records.set(attempt, record)
    void attempt.done.finally(() => { this.release(peerId) })
    return attempt
  }

  private release (peerId: string): void {
    const n = (this.outstanding.get(peerId) ?? 1) - 1
    if (n <= 0) this.outstanding.delete(peerId)
    else this.outstanding.set(peerId, n)
    this.parked.wakeOldest(peerId)
  }

  /** The node `peerId` just freed a slot: a parked request goes there if it is still a usable, unsaturated holder. */
  private pull (req: Request, peerId: string): Choice | undefined {
    const now = this.now()
    const candidate = pullCandidate(this.lateBinding(req), peerId, req.tried, backedOffPeers(this.backoff, now))
    if (candidate == null) return undefined
    const latencyMs = new Map([[peerId, currentLatency(this.latency.get(peerId), now, this.config.ewmaTauMs, this.config.scheduler.priorLatencyMs)]])
    return { candidate, cost: candidateCost(candidate, { latencyMs, outstanding: this.outstanding }, this.config.scheduler), reason: 'pull' }
  }

  private shouldPark (req: Request, choice: Choice): boolean {
    // Most requests cannot park (`remote`, `local`, retries): skip building the late-binding state for them.
    return mayPark(req.prefer, req.log.length) && shouldPark(this.lateBinding(req), choice.candidate)
  }

  private lateBinding (req: Request): LateBindingState {
    const perSlot = this.config.parkLoadPerSlot <= 0 ? 0 : (this.init.parkLoadPerSlot?.(req.modelId) ?? this.config.parkLoadPerSlot)
    const maxPerPeer = requestsWithinBudget(requestBytes(req.inputs), this.config.peerInflightBytes)
    return { prefer: req.prefer, attempts: req.log.length, candidates: this.candidates(req), perSlot, outstanding: this.outstanding, extra: this.depths.extras(), maxPerPeer }
  }

  /** Fill in the attempt's entry of the attempt log with its outcome and duration. */
  private record (attempt: Attempt, outcome: string): number {
    const ms = Math.max(0, this.now() - attempt.startedAt)
    const entry = this.records.get(attempt)
    if (entry != null) { entry.outcome = outcome; entry.ms = ms }
    return ms
  }

  private fail (req: Request, attempt: Attempt, error: Error): void {
    const ms = this.record(attempt, error.name)
    req.errors.push(error)
    const { peerId, local } = attempt.choice.candidate
    this.log('attempt on %s failed after %d ms: %s', peerId, Math.round(ms), error.name)
    if (local || error.name === 'AbortError') return
    // A peer that dropped the request at its deadline is overloaded rather than broken: a short backoff.
    const now = this.now()
    this.backoff = error.name === 'PeerBusyError' || error.name === 'DeadlineExceededError'
      ? recordBusy(this.backoff, peerId, now, this.config.backoff)
      : recordFailure(this.backoff, peerId, now, this.config.backoff)
  }

  /** Abort a running attempt that is no longer needed; its time so far is a lower bound of its latency. */
  private abandon (attempt: Attempt, reason: Error): void {
    attempt.controller.abort(reason)
    const ms = this.record(attempt, reason.name)
    const peerId = attempt.choice.candidate.peerId
    const current = this.latency.get(peerId)
    if (current == null || ms > current.estimateMs) this.latency.set(peerId, observeLatency(current, ms, this.now(), this.config.ewmaTauMs))
  }

  private succeed (req: Request, attempt: Attempt, result: ServedResult): InferResult {
    const { peerId, local } = attempt.choice.candidate
    const now = this.now()
    const ms = this.record(attempt, 'ok')
    const serviceMs = Math.max(0, ms - result.queueMs)
    this.latency.set(peerId, observeLatency(this.latency.get(peerId), serviceMs, now, this.config.ewmaTauMs))
    if (!local) this.depths.observe(peerId, ms, result.queueMs, result.computeMs)
    this.backoff = recordSuccess(this.backoff, peerId)
    const totalMs = Math.max(0, now - req.startedAt)
    this.window.record(totalMs, now)
    if (local) this.counts.servedLocally++
    else this.counts.servedRemotely++
    this.counts.byPeer[peerId] = (this.counts.byPeer[peerId] ?? 0) + 1
    return inferResult(req, peerId, result, totalMs)
  }

  private hedgeDelay (): number | undefined {
    if (!this.config.hedging) return undefined
    const now = this.now()
    if (this.window.count(now) < this.config.hedgeMinSamples) return undefined
    return this.window.percentile(0.95, now)
  }
}
