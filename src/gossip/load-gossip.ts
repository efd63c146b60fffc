/**
 * The load gossip service: publishes this node's load report on
 * `/edge-mesh/load/1` as a heartbeat and early on a large change, at a cadence
 * that slows down as the mesh grows (see `cadence.ts`), validates incoming
 * reports in the gossipsub topic validator, and keeps the load table.
 */
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { serviceCapabilities, serviceDependencies } from '@libp2p/interface'
import { TypedEventEmitter } from 'main-event'
import { freemem } from 'node:os'
import { CAPABILITY } from '../capabilities.js'
import { optionalComponent } from '../optional-component.js'
import { CpuSampler } from './cpu.js'
import { changeWaitMs, entryTtlMs, heartbeatDue, heartbeatIntervalMs, isSignificantChange } from './cadence.js'
import { decodeLoadReport, encodeLoadReport } from './codec.js'
import { LOAD_TOPIC, MAX_CLOCK_SKEW_MS, MAX_NEIGHBOURS, MAX_REPORTS_PER_INTERVAL } from './constants.js'
import { applyReport, dropPeer, emptyLoadTable, expireEntries, judgeReport, liveEntries } from './load-table.js'
import type { CadenceSettings } from './cadence.js'
import type { LoadGossipComponents } from './index.js'
import type { Ttl } from './load-table.js'
import type { LoadGossipEvents, LoadReport, LoadView, LocalWork, NodeRole, OffloadTraffic, PeerLoad } from './types.js'
import type { Message } from '@libp2p/gossipsub'
import type { Logger, PeerId, Startable } from '@libp2p/interface'

const { Accept: ACCEPT, Ignore: IGNORE, Reject: REJECT } = TopicValidatorResult

export class LoadGossip extends TypedEventEmitter<LoadGossipEvents> implements LoadView, Startable {
  private readonly log: Logger
  private readonly cadence: CadenceSettings
  private readonly ttlMs: Ttl
  private readonly role: NodeRole
  private readonly name: string
  private table = emptyLoadTable()
  private seq = 0
  private lastReport?: LoadReport
  private lastPublishedWork?: LocalWork
  private lastPublishAt = 0
  private timer?: ReturnType<typeof setInterval>
  private earlyTimer?: ReturnType<typeof setTimeout>
  private started = false
  private readonly cpu = new CpuSampler()
  private readonly counters = { sent: 0, received: 0, rejected: 0 }
  private readonly rate = new Map<string, number>()

  constructor (private readonly components: LoadGossipComponents, init: CadenceSettings & { expiryIntervals: number, role: NodeRole, name: string }) {
    super()
    this.log = components.logger.forComponent('edge-mesh:gossip')
    this.cadence = { intervalMs: init.intervalMs, heartbeatBudget: init.heartbeatBudget, changeBudget: init.changeBudget, maxIntervalMs: init.maxIntervalMs }
    this.ttlMs = (entry) => entryTtlMs(entry, this.cadence, init.expiryIntervals)
    this.role = init.role
    this.name = init.name
  }

  readonly [Symbol.toStringTag] = 'edge-mesh:load-gossip'
  readonly [serviceCapabilities]: string[] = [CAPABILITY.loadView]
  readonly [serviceDependencies]: string[] = [CAPABILITY.pubsub, CAPABILITY.localLoad]

  start (): void {
    if (this.started) return
    this.started = true
    // Start sequence numbers at the wall clock so a restarted node's reports are newer than its old ones.
    this.seq = Date.now()
  }

  /** Subscribe once pubsub itself has started. */
  afterStart (): void {
    if (!this.started || this.timer != null) return
    const { pubsub, events, localLoad } = this.components
    pubsub.topicValidators.set(LOAD_TOPIC, this.validate)
    pubsub.subscribe(LOAD_TOPIC)
    pubsub.addEventListener('message', this.onMessage)
    events.addEventListener('peer:disconnect', this.onDisconnect)
    localLoad.addEventListener('load:change', this.onLocalChange)
    this.timer = setInterval(this.tick, this.cadence.intervalMs)
    this.timer.unref?.()
    void this.publishNow()
  }

  stop (): void {
    if (!this.started) return
    this.started = false
    const { pubsub, events, localLoad } = this.components
    clearInterval(this.timer)
    this.timer = undefined
    clearTimeout(this.earlyTimer)
    pubsub.removeEventListener('message', this.onMessage)
    events.removeEventListener('peer:disconnect', this.onDisconnect)
    localLoad.removeEventListener('load:change', this.onLocalChange)
    pubsub.topicValidators.delete(LOAD_TOPIC)
    try { pubsub.unsubscribe(LOAD_TOPIC) } catch {}
    this.table = emptyLoadTable()
  }

  peers (): PeerLoad[] {
    return liveEntries(this.table, Date.now(), this.ttlMs)
  }

  get (peerId: string): PeerLoad | undefined {
    return this.peers().find(p => p.peerId === peerId)
  }

  self (): LoadReport | undefined {
    return this.lastReport
  }

  stats (): { sent: number, received: number, rejected: number } {
    return { ...this.counters }
  }

  /** Nodes this node knows of, itself included: what the cadence scales with. */
  private meshSize (): number {
    return this.table.entries.size + 1
  }

  /**
   * The models this node announces: those its services registered plus its own loaded models (at most 32).
   * Models fetched on demand for a peer are served but not announced as this node's own (docs/security.md).
   */
  private servedModels (work: LocalWork): string[] {
    const models = optionalComponent<LoadGossipComponents['models']>(this.components, 'models')
    const own = models?.list().filter(m => m.origin !== 'fetched').map(m => m.id) ?? []
    return [...new Set([...work.models, ...own])].slice(0, 32)
  }

  /** The peers this node is connected to, in id order (the report lists the first `MAX_NEIGHBOURS`). */
  private connectedPeers (): string[] {
    const connections = optionalComponent<LoadGossipComponents['connectionManager']>(this.components, 'connectionManager')
    const ids = new Set((connections?.getConnections() ?? []).map(c => c.remotePeer.toString()))
    return [...ids].sort()
  }

  /** The offload service's counters (zeros on a node without one, or when it fails to report). */
  private traffic (): OffloadTraffic {
    const offload = optionalComponent<LoadGossipComponents['offload']>(this.components, 'offload')
    try {
      const { servedLocally, servedRemotely, servedForPeers } = offload?.stats() ?? { servedLocally: 0, servedRemotely: 0, servedForPeers: 0 }
      return { servedLocally, servedRemotely, servedForPeers }
    } catch {
      return { servedLocally: 0, servedRemotely: 0, servedForPeers: 0 }
    }
  }

  /** Build this node's current report. */
  private buildReport (work: LocalWork): LoadReport {
    const { addressManager } = this.components
    const models = optionalComponent<LoadGossipComponents['models']>(this.components, 'models')
    const neighbours = this.connectedPeers()
    return {
      seq: ++this.seq,
      timestamp: Date.now(),
      cpu: this.cpu.sample(),
      memFree: freemem(),
      inFlight: work.inFlight,
      queued: work.queued,
      capacity: work.capacity,
      intervalMs: heartbeatIntervalMs(this.cadence, this.meshSize()),
      backend: models?.backend ?? 'none',
      models: this.servedModels(work),
      training: work.training,
      canTrain: work.canTrain,
      role: this.role,
      name: this.name,
      addrs: addressManager.getAddresses()
        .map(a => a.decapsulateCode(421).toString())
        .filter((a, i, all) => all.indexOf(a) === i)
        .slice(0, 16),
      traffic: this.traffic(),
      connections: neighbours.length,
      neighbours: neighbours.slice(0, MAX_NEIGHBOURS)
    }
  }

  /** Publish a report now. Errors (no peers yet, stopping) are logged, never thrown. */
  publishNow = async (): Promise<void> => {
    if (!this.started) return
    try {
      const work = this.components.localLoad.snapshot()
      const report = this.buildReport(work)
      this.lastReport = report
      this.lastPublishedWork = work
      this.lastPublishAt = Date.now()
      await this.components.pubsub.publish(LOAD_TOPIC, encodeLoadReport(report))
      this.counters.sent++
    } catch (err: any) {
      this.log.trace('load report not published: %s', err?.message)
    }
  }

  private readonly tick = (): void => {
    this.rate.clear()
    const { table, expired } = expireEntries(this.table, Date.now(), this.ttlMs)
    this.table = table
    for (const peerId of expired) this.safeDispatchEvent('load:expire', { detail: peerId })
    const announced = this.lastReport?.intervalMs ?? this.cadence.intervalMs
    // A model loaded into the runtime (a new global model, a fetched one) raises no load:change: announce it at the next tick.
    const modelsChanged = this.lastReport != null && this.servedModels(this.components.localLoad.snapshot()).join() !== this.lastReport.models.join()
    if (modelsChanged || heartbeatDue(this.cadence, this.meshSize(), this.lastPublishAt, announced, Date.now())) void this.publishNow()
  }

  private readonly onLocalChange = (evt: CustomEvent<LocalWork>): void => {
    const before = this.lastPublishedWork
    const now = evt.detail
    if (before == null || !isSignificantChange(before, now) || this.earlyTimer != null) return
    const wait = changeWaitMs(this.cadence, this.meshSize(), this.lastPublishAt, Date.now())
    this.earlyTimer = setTimeout(() => {
      this.earlyTimer = undefined
      void this.publishNow()
    }, wait)
  }

  /** gossipsub topic validator: malformed, oversized, replayed, far-future or flooding reports never reach the table. */
  private readonly validate = (peer: PeerId, message: Message): TopicValidatorResult => {
    const from = message.type === 'signed' ? message.from.toString() : undefined
    if (from == null) { this.counters.rejected++; return REJECT }
    const count = (this.rate.get(from) ?? 0) + 1
    this.rate.set(from, count)
    if (count > MAX_REPORTS_PER_INTERVAL) { this.counters.rejected++; return IGNORE }
    let report: LoadReport
    try {
      report = decodeLoadReport(message.data)
    } catch (err: any) {
      this.counters.rejected++
      this.log('rejected load report from %s via %p: %s', from, peer, err?.message)
      return REJECT
    }
    const verdict = judgeReport(this.table, from, report, Date.now(), MAX_CLOCK_SKEW_MS)
    if (verdict === 'future') { this.counters.rejected++; return REJECT }
    if (verdict === 'stale') return IGNORE
    return ACCEPT
  }

  private readonly onMessage = (evt: CustomEvent<Message>): void => {
    const message = evt.detail
    if (message.topic !== LOAD_TOPIC || message.type !== 'signed') return
    const from = message.from.toString()
    if (from === this.components.peerId.toString()) return
    let report: LoadReport
    try {
      report = decodeLoadReport(message.data)
    } catch {
      return
    }
    const { table, verdict } = applyReport(this.table, from, report, Date.now(), MAX_CLOCK_SKEW_MS)
    if (verdict !== 'accepted') return
    this.table = table
    this.counters.received++
    const entry = table.entries.get(from)
    if (entry != null) this.safeDispatchEvent('load:report', { detail: entry })
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peerId = evt.detail.toString()
    const { table, dropped } = dropPeer(this.table, peerId)
    this.table = table
    if (dropped) this.safeDispatchEvent('load:expire', { detail: peerId })
  }
}
