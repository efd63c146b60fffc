/**
 * The offload service: composes the execution engine, the inbound infer
 * handler, the remote invoker, model transfer and the client's attempt loop.
 * See `index.ts` for the public documentation.
 */
import { serviceCapabilities, serviceDependencies } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { TypedEventEmitter } from 'main-event'
import { CAPABILITY } from '../capabilities.js'
import { DeadlineExceededError, ModelNotFoundError, NotStartedError } from '../errors.js'
import { optionalComponent } from '../optional-component.js'
import { buildCandidates } from './candidates.js'
import { OffloadClient } from './client.js'
import {
  ABUSE_BAN_MS, DEFAULT_OFFLOAD_TO, DEFAULT_SPOT_CHECK_RATE, MODEL_LOOKUP_MAX_PEERS, SPOT_CHECK_BAN_MS, SPOT_CHECK_TOLERANCE
} from './constants.js'
import { createInferHandler } from './infer-handler.js'
import { LoadEstimator } from './load-estimate.js'
import { LoadProbeHandler, probeLoad } from './load-probe.js'
import { samplePair } from './scheduler.js'
import { createRemoteInvoker } from './remote-invoker.js'
import {
  DEFAULT_DEADLINE_MS, DEFAULT_HEDGING, DEFAULT_MAX_ATTEMPTS, DEFAULT_PARK_LOAD_PER_SLOT, DEFAULT_PROBE_AFTER_MS, DEFAULT_PROBE_TIMEOUT_MS,
  DEFAULT_SCHEDULING_POLICY
} from './scheduler-constants.js'
import { createInferenceEngine } from './server.js'
import { SpotChecker } from './verifier.js'
import type { Candidate } from './scheduler.js'
import type { InferHandler } from './infer-handler.js'
import type { OffloadComponents, OffloadInit } from './index.js'
import type { PipelinedInvoker } from './remote-invoker.js'
import type { InferenceEngine } from './server.js'
import type { SchedulingPolicy } from './policy.js'
import type { InferOptions, InferResult, LocalInvoker, Offload, OffloadEvents, OffloadStats, Preference, RemoteInvoker } from './types.js'
import type { TensorData } from '../model/types.js'
import type { Logger, Startable } from '@libp2p/interface'

export class OffloadService extends TypedEventEmitter<OffloadEvents> implements Offload, Startable {
  readonly [Symbol.toStringTag] = '@edge-mesh/offload'
  readonly [serviceCapabilities]: string[] = [CAPABILITY.offload]
  readonly [serviceDependencies]: string[] = [CAPABILITY.models, CAPABILITY.localLoad, CAPABILITY.loadView, CAPABILITY.modelTransfer]
  private readonly components: OffloadComponents
  private readonly log: Logger
  private readonly selfId: string
  private readonly engine: InferenceEngine
  private readonly handler: InferHandler
  private readonly client: OffloadClient
  /** The invoker's long-lived 1.1.0 streams are closed when the service stops. */
  private readonly remote: PipelinedInvoker
  private readonly defaultDeadlineMs: number
  private readonly spotChecker: SpotChecker
  private readonly probeHandler: LoadProbeHandler
  private readonly policy: SchedulingPolicy
  private readonly random: () => number
  /** Peers' load fresher than gossip: loads answered with responses, and this node's own requests (see `load-estimate.ts`). */
  readonly loadEstimate = new LoadEstimator()
  /** Peers work may be offloaded to; undefined means any peer. */
  private readonly trusted?: ReadonlySet<string>
  /** The optional trust component, read once at start: reading an absent one throws, too dear per request. */
  private trust?: OffloadComponents['trust']
  private started = false

  constructor (components: OffloadComponents, init: OffloadInit = {}) {
    super()
    this.components = components
    this.log = components.logger.forComponent('edge-mesh:offload')
    this.selfId = components.peerId.toString()
    this.engine = createInferenceEngine({ runtime: components.models, localLoad: components.localLoad, log: this.log.newScope('engine') }, init)
    this.defaultDeadlineMs = init.defaultDeadlineMs ?? DEFAULT_DEADLINE_MS
    this.handler = createInferHandler({
      registrar: components.registrar,
      engine: this.serving,
      onAbuse: (peer) => { this.banPeer(peer, ABUSE_BAN_MS, 'too many malformed infer frames') },
      load: () => this.engine.load(),
      log: this.log.newScope('infer-handler')
    }, {
      maxFrameBytes: init.maxFrameBytes,
      timeoutMs: init.streamTimeoutMs,
      maxInboundStreams: init.maxInboundStreams
    })
    this.remote = createRemoteInvoker({ connectionManager: components.connectionManager }, { maxFrameBytes: init.maxFrameBytes })
    this.client = new OffloadClient({
      selfId: this.selfId,
      local: this.engine.invoke,
      // The answer's `serverLoad` reaches the load estimate through `tracked`, dated like the request's end.
      remote: this.tracked(this.remote),
      candidates: (modelId) => this.candidates(modelId),
      fetchLocal: async (modelId, options) => components.modelTransfer.ensure(modelId, options),
      // Requests that batch on the node may wait there for a whole batch (`batchRows`: one row for a
      // fixed-batch model or a slow one, so its queue stays short and a burst's tail stays balanced).
      parkLoadPerSlot: (modelId) => {
        const rows = this.engine.batchRows(modelId)
        return DEFAULT_PARK_LOAD_PER_SLOT + (rows > 1 ? rows : 0)
      },
      log: this.log.newScope('client'),
      config: {
        defaultDeadlineMs: init.defaultDeadlineMs ?? DEFAULT_DEADLINE_MS,
        hedging: init.hedging ?? DEFAULT_HEDGING,
        maxAttempts: init.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        policy: init.policy ?? DEFAULT_SCHEDULING_POLICY
      }
    })
    this.policy = init.policy ?? DEFAULT_SCHEDULING_POLICY
    this.random = init.random ?? Math.random
    this.probeHandler = new LoadProbeHandler({ registrar: components.registrar, localLoad: components.localLoad, log: this.log.newScope('load-probe') })
    if ((init.offloadTo ?? DEFAULT_OFFLOAD_TO) === 'trusted') this.trusted = new Set(init.trustedPeers ?? [])
    this.spotChecker = new SpotChecker({
      selfId: this.selfId,
      rate: init.spotCheckRate ?? DEFAULT_SPOT_CHECK_RATE,
      tolerance: init.spotCheckTolerance ?? SPOT_CHECK_TOLERANCE,
      random: init.random ?? Math.random,
      hasModel: (modelId) => components.models.has(modelId),
      runLocal: async (modelId, inputs, options) => (await this.runHeld(modelId, inputs, options)).outputs,
      ask: async (modelId, inputs, options) => this.client.infer(modelId, inputs, options),
      ban: (peer, why) => { this.banPeer(peer, SPOT_CHECK_BAN_MS, why) },
      log: this.log.newScope('spot-check')
    })
  }

  /**
   * The invoker behind the inbound handler: a request for a model this node
   * does not hold first fetches it from the peers that announce it (the
   * requester among them), within the request's deadline.
   */
  private readonly serving: LocalInvoker = async (modelId, inputs, options) => {
    if (this.components.models.has(modelId)) return this.runHeld(modelId, inputs, options)
    const startedAt = performance.now()
    this.log('fetching model %s to serve a peer', modelId)
    await this.components.modelTransfer.ensure(modelId, options)
    return this.runHeld(modelId, inputs, { ...options, deadlineMs: Math.floor(options.deadlineMs - (performance.now() - startedAt)) })
  }

  /** Run on this node's engine, holding the model so the memory budget cannot unload it while the request waits. */
  private readonly runHeld: LocalInvoker = async (modelId, inputs, options) => {
    const release = this.components.models.has(modelId) ? this.components.models.retain?.(modelId) : undefined
    try {
      return await this.engine.invoke(modelId, inputs, options)
    } finally {
      release?.()
    }
  }

  /**
   * The remote invoker, telling the load estimate when each request to a peer
   * starts and ends, and the load the peer answered with (`serverLoad`, when its
   * protocol carries it). Times are `Date.now()`, the clock of the load table's `receivedAt`.
   */
  private tracked (remote: RemoteInvoker): RemoteInvoker {
    return async (peerId, modelId, inputs, options) => {
      const done = this.loadEstimate.sent(peerId, Date.now())
      try {
        const result = await remote(peerId, modelId, inputs, options)
        const now = Date.now()
        if (result.serverLoad != null) this.observeLoad(peerId, result.serverLoad, now)
        done(now)
        return result
      } catch (err) {
        done(Date.now())
        throw err
      }
    }
  }

  /** A peer's load as it told it at `atMs` (this node's `Date.now()`, the load table's clock); newer than gossip, it overrides it. */
  observeLoad (peerId: string, load: { outstanding: number, capacity: number }, atMs: number): void {
    this.loadEstimate.observeLoad(peerId, load, atMs)
  }

  /** A peer that abused a protocol or lied: ban it in the connection gater and hang up on it. */
  private banPeer (peer: string, ms: number, why: string): void {
    this.log('banning %s for %d ms: %s', peer, ms, why)
    optionalComponent<OffloadComponents['trust']>(this.components, 'trust')?.ban(peer, ms)
    try {
      void this.components.connectionManager.closeConnections(peerIdFromString(peer)).catch(() => {})
    } catch {}
  }

  /** Peers this node may offload to: not banned, and trusted when `offloadTo` is `trusted`. */
  private eligible (peerId: string): boolean {
    if (this.trusted != null && !this.trusted.has(peerId)) return false
    return this.trust?.isBanned(peerId) !== true
  }

  private candidates (modelId: string): Candidate[] {
    return buildCandidates({
      modelId,
      selfId: this.selfId,
      local: this.components.localLoad.snapshot(),
      localCpu: this.components.loadView.self()?.cpu ?? 0,
      localHasModel: this.components.models.has(modelId),
      canFetch: true,
      now: Date.now(),
      peers: this.loadEstimate.estimate(this.components.loadView.peers().filter(p => this.eligible(p.peerId)), Date.now())
    })
  }

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    if (this.started) return
    this.trust = optionalComponent<OffloadComponents['trust']>(this.components, 'trust')
    this.engine.start()
    await this.handler.start()
    await this.probeHandler.start()
    this.started = true
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    const reason = new NotStartedError('offload service stopped')
    this.client.abortAll(reason)
    this.remote.close()
    await this.handler.stop()
    await this.probeHandler.stop()
    this.engine.stop()
  }

  async infer (modelId: string, inputs: TensorData[], options?: InferOptions): Promise<InferResult> {
    if (!this.started) throw new NotStartedError('offload service is not started')
    try {
      const result = await this.run(modelId, inputs, options)
      this.safeDispatchEvent('inference:completed', { detail: { ...result, modelId } })
      return result
    } catch (err: any) {
      this.safeDispatchEvent('inference:failed', { detail: { modelId, error: err } })
      throw err
    }
  }

  /** One request: find the model if no report announces it, run it somewhere, spot-check a peer's answer. */
  private async run (modelId: string, inputs: TensorData[], options?: InferOptions): Promise<InferResult> {
    const startedAt = performance.now()
    const deadlineMs = options?.deadlineMs ?? this.defaultDeadlineMs
    const left = (): number => Math.max(0, Math.floor(deadlineMs - (performance.now() - startedAt)))
    const candidates = this.candidates(modelId)
    if (candidates.length === 0) {
      // When nobody holds it, the client below fails the request with ModelNotFoundError (and counts it).
      await this.lookUp(modelId, { signal: options?.signal, deadlineMs }).catch((err: Error) => { if (err.name !== 'ModelNotFoundError') throw err })
    }
    // After a look-up the model's holders changed: the list is built again.
    const probed = candidates.length === 0 ? this.candidates(modelId) : candidates
    const among = await this.probePair(probed, options?.prefer ?? 'auto', left(), options?.signal)
    const result = await this.client.infer(modelId, inputs, { ...options, deadlineMs: left() }, { among }).catch((err: Error) => {
      // The client only knows the time that was left; say the deadline the caller gave.
      if (err.name === 'DeadlineExceededError') throw new DeadlineExceededError(`no answer within the deadline of ${deadlineMs} ms (${err.message})`, { attempts: (err as DeadlineExceededError).attempts })
      throw err
    })
    const checked = await this.spotChecker.check(modelId, inputs, result, { signal: options?.signal, deadlineMs: left() })
    // Never a success after the deadline, whatever ran late (a look-up, a spot check, a blocking local run).
    if (performance.now() - startedAt > deadlineMs) {
      throw new DeadlineExceededError(`answered after the deadline of ${deadlineMs} ms`, { attempts: checked.attemptLog })
    }
    return checked
  }

  /**
   * No load report announces `modelId` (it may have just been made, e.g. a federated
   * round's global model): ask connected peers for it by content id, within the
   * deadline, and load it here. ModelNotFoundError when none of them holds it.
   */
  private async lookUp (modelId: string, options: { signal?: AbortSignal, deadlineMs: number }): Promise<void> {
    const peers = (this.components.connectionManager.getConnections?.() ?? [])
      .map(c => c.remotePeer.toString())
      .filter((p, i, all) => all.indexOf(p) === i && this.eligible(p))
      .slice(0, MODEL_LOOKUP_MAX_PEERS)
    if (peers.length === 0) throw new ModelNotFoundError(`no node holds model ${modelId}`)
    this.log('no peer announces %s; asking %d connected peers', modelId, peers.length)
    const timeout = AbortSignal.timeout(Math.max(1, options.deadlineMs))
    const signal = options.signal == null ? timeout : AbortSignal.any([options.signal, timeout])
    try {
      await this.components.modelTransfer.ensure(modelId, { signal, from: peers })
    } catch (err: any) {
      if (timeout.aborted) throw new DeadlineExceededError(`no answer within ${options.deadlineMs} ms while looking for model ${modelId}`)
      if (err?.name === 'AllPeersFailedError') throw new ModelNotFoundError(`no node holds model ${modelId} (asked ${peers.length} connected peers)`)
      throw err
    }
  }

  /**
   * The load probe (`load-probe.ts`): when power of two choices would compare
   * two peers, ask those whose load figure is older than `DEFAULT_PROBE_AFTER_MS`
   * for their load now (both at once, within `DEFAULT_PROBE_TIMEOUT_MS` and a
   * quarter of the time left), and return the pair the first attempt chooses
   * among. A probe that fails leaves the figure as it was.
   */
  private async probePair (candidates: Candidate[], prefer: Preference, leftMs: number, signal?: AbortSignal): Promise<ReadonlySet<string> | undefined> {
    if (this.policy !== 'p2c' || prefer === 'local') return undefined
    const stats = { latencyMs: new Map<string, number>(), outstanding: new Map<string, number>(), backedOff: new Set<string>(), tried: new Set<string>(), prefer }
    const pair = samplePair(candidates, stats, this.random)
    if (pair.length === 0) return undefined
    const timeoutMs = Math.max(1, Math.min(DEFAULT_PROBE_TIMEOUT_MS, Math.floor(leftMs / 4)))
    const stale = pair.filter(c => (c.ageMs ?? 0) > DEFAULT_PROBE_AFTER_MS)
    await Promise.all(stale.map(async (c) => {
      try {
        const load = await probeLoad(this.components.connectionManager, c.peerId, { timeoutMs, signal })
        this.observeLoad(c.peerId, load, Date.now())
      } catch (err: any) {
        this.log('load probe of %s failed: %s', c.peerId, err?.name)
      }
    }))
    return new Set(pair.map(c => c.peerId))
  }

  batchRows (modelId: string): number {
    return this.engine.batchRows(modelId)
  }

  stats (): OffloadStats {
    const c = this.client.counters()
    const e = this.engine.stats()
    const h = this.handler.stats()
    return {
      servedLocally: c.servedLocally,
      servedRemotely: c.servedRemotely,
      servedForPeers: h.served,
      failed: c.failed,
      byPeer: c.byPeer,
      p50Ms: this.client.percentile(0.5),
      p99Ms: this.client.percentile(0.99),
      queueDepth: e.queued,
      inFlight: e.inFlightRequests,
      capacity: e.capacity,
      spotChecks: this.spotChecker.stats(),
      inbound: { errorReplies: h.errorReplies, malformed: h.malformed, abusers: h.abusers, cancelled: h.cancelled, aborted: h.aborted }
    }
  }
}
