/**
 * The offload service: composes the execution engine, the inbound infer
 * handler, the remote invoker, model transfer and the client's attempt loop.
 * See `index.ts` for the public documentation.
 */
import { serviceCapabilities, serviceDependencies } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { TypedEventEmitter } from 'main-event'
import { CAPABILITY } from '../capabilities.js'
import { NotStartedError } from '../errors.js'
import { optionalComponent } from '../optional-component.js'
import { buildCandidates } from './candidates.js'
import { OffloadClient } from './client.js'
import { ABUSE_BAN_MS } from './constants.js'
import { createInferHandler } from './infer-handler.js'
import { createRemoteInvoker } from './remote-invoker.js'
import {
  DEFAULT_DEADLINE_MS, DEFAULT_HEDGING, DEFAULT_MAX_ATTEMPTS, DEFAULT_PARK_LOAD_PER_SLOT, DEFAULT_SCHEDULING_POLICY
} from './scheduler-constants.js'
import { createInferenceEngine } from './server.js'
import type { Candidate } from './scheduler.js'
import type { InferHandler } from './infer-handler.js'
import type { OffloadComponents, OffloadInit } from './index.js'
import type { InferenceEngine } from './server.js'
import type { InferOptions, InferResult, LocalInvoker, Offload, OffloadEvents, OffloadStats } from './types.js'
import type { TensorData } from '../model/types.js'
import type { PeerBans } from '../trust/index.js'
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
  private started = false

  constructor (components: OffloadComponents, init: OffloadInit = {}) {
    super()
    this.components = components
    this.log = components.logger.forComponent('edge-mesh:offload')
    this.selfId = components.peerId.toString()
    this.engine = createInferenceEngine({ runtime: components.models, localLoad: components.localLoad, log: this.log.newScope('engine') }, init)
    this.handler = createInferHandler({ registrar: components.registrar, engine: this.serving, onAbuse: (peer) => { this.banAbuser(peer) }, log: this.log.newScope('infer-handler') }, {
      maxFrameBytes: init.maxFrameBytes,
      timeoutMs: init.streamTimeoutMs,
      maxInboundStreams: init.maxInboundStreams
    })
    this.client = new OffloadClient({
      selfId: this.selfId,
      local: this.engine.invoke,
      remote: createRemoteInvoker({ connectionManager: components.connectionManager }, { maxFrameBytes: init.maxFrameBytes }),
      candidates: (modelId) => this.candidates(modelId),
      fetchLocal: async (modelId, options) => components.modelTransfer.ensure(modelId, options),
      // Requests of a model whose batch size is not fixed may batch on the node: let a full batch wait there.
      parkLoadPerSlot: (modelId) => components.models.get(modelId)?.fixedBatch === true
        ? DEFAULT_PARK_LOAD_PER_SLOT
        : DEFAULT_PARK_LOAD_PER_SLOT + (this.engine.settings.batching ? this.engine.settings.maxBatchSize : 0),
      log: this.log.newScope('client'),
      config: {
        defaultDeadlineMs: init.defaultDeadlineMs ?? DEFAULT_DEADLINE_MS,
        hedging: init.hedging ?? DEFAULT_HEDGING,
        maxAttempts: init.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        policy: init.policy ?? DEFAULT_SCHEDULING_POLICY
      }
    })
  }

  /**
   * The invoker behind the inbound handler: a request for a model this node
   * does not hold first fetches it from the peers that announce it (the
   * requester among them), within the request's deadline.
   */
  private readonly serving: LocalInvoker = async (modelId, inputs, options) => {
    if (this.components.models.has(modelId)) return this.engine.invoke(modelId, inputs, options)
    const startedAt = performance.now()
    this.log('fetching model %s to serve a peer', modelId)
    await this.components.modelTransfer.ensure(modelId, options)
    return this.engine.invoke(modelId, inputs, { ...options, deadlineMs: Math.floor(options.deadlineMs - (performance.now() - startedAt)) })
  }

  /** A peer that keeps sending malformed frames: ban it in the connection gater and hang up on it. */
  private banAbuser (peer: string): void {
    this.log('banning %s for %d ms: too many malformed infer frames', peer, ABUSE_BAN_MS)
    optionalComponent<OffloadComponents['trust']>(this.components, 'trust')?.ban(peer, ABUSE_BAN_MS)
    try {
      void this.components.connectionManager.closeConnections(peerIdFromString(peer)).catch(() => {})
    } catch {}
  }

  private candidates (modelId: string): Candidate[] {
    return buildCandidates({
      modelId,
      selfId: this.selfId,
      local: this.components.localLoad.snapshot(),
      localCpu: this.components.loadView.self()?.cpu ?? 0,
      localHasModel: this.components.models.has(modelId),
      canFetch: true,
      peers: this.components.loadView.peers()
    })
  }

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    if (this.started) return
    this.engine.start()
    await this.handler.start()
    this.started = true
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    const reason = new NotStartedError('offload service stopped')
    this.client.abortAll(reason)
    await this.handler.stop()
    this.engine.stop()
  }

  async infer (modelId: string, inputs: TensorData[], options?: InferOptions): Promise<InferResult> {
    if (!this.started) throw new NotStartedError('offload service is not started')
    try {
      const result = await this.client.infer(modelId, inputs, options)
      this.safeDispatchEvent('inference:completed', { detail: { ...result, modelId } })
      return result
    } catch (err: any) {
      this.safeDispatchEvent('inference:failed', { detail: { modelId, error: err } })
      throw err
    }
  }

  stats (): OffloadStats {
    const c = this.client.counters()
    const e = this.engine.stats()
    return {
      servedLocally: c.servedLocally,
      servedRemotely: c.servedRemotely,
      servedForPeers: this.handler.stats().served,
      failed: c.failed,
      byPeer: c.byPeer,
      p50Ms: this.client.percentile(0.5),
      p99Ms: this.client.percentile(0.99),
      queueDepth: e.queued,
      inFlight: e.inFlightRequests,
      capacity: e.capacity
    }
  }
}
