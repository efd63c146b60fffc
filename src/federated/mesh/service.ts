/**
 * The federated service: federated averaging across the mesh.
 *
 * - **Participant.** A node started with `--data` holds one virtual client per
 *   data spec, says `canTrain` in its load reports, and answers ANNOUNCE on
 *   `/edge-mesh/fedavg/1.0.0`: it fetches the base model by content id when it
 *   lacks it, pulls the global weights, trains and pushes its update.
 * - **Coordinator.** `startRun` on a seed (or on a node with no seed in
 *   sight) runs `runFederated` over a mesh grid of every trainable peer;
 *   an edge forwards the run to a seed with START. Each round's global model
 *   is registered in the model runtime (content id, announced in gossip,
 *   servable by offload), checkpointed in `<dataDir>/federated/<runId>/` and
 *   its summary published on `/edge-mesh/fedruns/1`. Unfinished runs resume at start.
 *
 * @example
 * ```ts
 * services: { federated: federated({ data: 'mnist:0/4', dataDir: '.edge-mesh/laptop' }) }
 * const { id } = await node.services.federated.startRun({ rounds: 3, strategy: 'fedavg', fraction: 1, minParticipants: 2 })
 * node.services.federated.run(id)?.history // RoundSummary per completed round
 * ```
 */
import { join } from 'node:path'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { serviceCapabilities, serviceDependencies } from '@libp2p/interface'
import { TypedEventEmitter } from 'main-event'
import { CAPABILITY } from '../../capabilities.js'
import { NotStartedError, ProtocolError, RunNotFoundError } from '../../errors.js'
import { ClientCounts } from './client-counts.js'
import { encodedWeightRecordSize } from '../weights/codec.js'
import { coordinate, restoreHistory } from './coordinator.js'
import { FileCheckpointStore } from '../checkpoint.js'
import { loadData } from './data-spec.js'
import { CoordinatorDataSets } from './data-sets.js'
import { createMeshGrid } from './mesh-grid.js'
import { Participant } from './participant.js'
import { serveStream } from './protocol/handler.js'
import { exchange } from './protocol/wire.js'
import * as C from './protocol/constants.js'
import { KnownRuns, decodeRunAnnouncement, encodeRunAnnouncement } from './run-gossip.js'
import { RunFiles, newRunId, parseRunSpec } from './runs.js'
import { attackFor, waitForClients } from './service-helpers.js'
import type { CoordinatorContext } from './coordinator.js'
import type { MeshGrid } from './mesh-grid.js'
import type { Dispatch } from './protocol/handler.js'
import type { FedMessage, PushMessage } from './protocol/messages.js'
import type { RunRecordFile, RunSpec } from './runs.js'
import type { Federated, FederatedComponents, FederatedInit, StartedRun } from './service-api.js'
export type { Federated, FederatedComponents, FederatedInit, RunPubSub, StartedRun } from './service-api.js'
import type { FederatedEvents, RunSummary } from './service-types.js'
import type { PeerLoad } from '../../gossip/types.js'
import type { Dataset, WeightRecord } from '../../model/types.js'
import type { Message } from '@libp2p/gossipsub'
import type { AbortOptions, Connection, Logger, PeerId, Startable, Stream } from '@libp2p/interface'

interface OwnRun {
  record: RunRecordFile
  summary: RunSummary
  controller: AbortController
  saving: Promise<void>
}

const MNIST_MLP = { inputSize: 784, hidden: [200, 200], classes: 10 }

export class FederatedService extends TypedEventEmitter<FederatedEvents> implements Federated, Startable {
  readonly [Symbol.toStringTag] = '@edge-mesh/federated'
  readonly [serviceCapabilities]: string[] = [CAPABILITY.federated]
  readonly [serviceDependencies]: string[] = [CAPABILITY.models, CAPABILITY.localLoad, CAPABILITY.loadView, CAPABILITY.modelTransfer, CAPABILITY.pubsub]
  private readonly log: Logger
  private readonly selfId: string
  private readonly files: RunFiles
  private readonly own = new Map<string, OwnRun>()
  private readonly known = new KnownRuns()
  private readonly grids = new Map<string, MeshGrid>()
  private readonly clientCounts: ClientCounts
  private readonly dataSets = new CoordinatorDataSets(C.MAX_COORDINATOR_DATA_SETS, async (spec) => (await loadData(spec))[0])
  private participant: Participant
  private seq = 0
  private timer?: ReturnType<typeof setInterval>
  private started = false
  /** Rounds and state of each own run already announced as events. */
  private readonly announced = new Map<string, { rounds: number, state: RunSummary['state'] }>()

  constructor (private readonly components: FederatedComponents, private readonly init: FederatedInit = {}) {
    super()
    this.log = components.logger.forComponent('edge-mesh:federated')
    this.selfId = components.peerId.toString()
    this.files = new RunFiles(join(init.dataDir ?? '.edge-mesh', 'federated'))
    this.participant = this.makeParticipant([])
    this.clientCounts = new ClientCounts(components.connectionManager, this.log.newScope('hello'))
  }

  private makeParticipant (clients: Dataset[]): Participant {
    return new Participant({
      clients,
      runtime: this.components.models,
      localLoad: this.components.localLoad,
      ensureModel: async (id, coordinator, options) => this.ensureModel(id, [coordinator], options),
      pull: async (coordinator, runId, version, options) => this.pull(coordinator, runId, version, options),
      push: async (coordinator, header, weights, options) => this.push(coordinator, header, weights, options),
      log: this.log.newScope('participant')
    })
  }

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    if (this.started) return
    const clients = this.init.data === undefined ? [] : await loadData(this.init.data)
    this.participant = this.makeParticipant(clients)
    if (clients.length > 0) this.components.localLoad.update({ canTrain: true })
    await this.components.registrar.handle(C.FEDAVG_PROTOCOL, this.handle, {
      maxInboundStreams: this.init.maxInboundStreams ?? C.DEFAULT_MAX_INBOUND_STREAMS,
      maxOutboundStreams: C.DEFAULT_MAX_OUTBOUND_STREAMS
    })
    this.seq = Date.now()
    this.started = true
  }

  /** Subscribe to run gossip once pubsub runs, then resume unfinished runs. */
  afterStart (): void {
    if (!this.started || this.timer !== undefined) return
    const { pubsub, events, loadView } = this.components
    pubsub.topicValidators.set(C.FEDRUNS_TOPIC, this.validate)
    pubsub.subscribe(C.FEDRUNS_TOPIC)
    pubsub.addEventListener('message', this.onMessage)
    events.addEventListener('peer:disconnect', this.onDisconnect)
    loadView.addEventListener('load:report', this.onReport)
    this.timer = setInterval(this.republish, this.init.runGossipIntervalMs ?? C.DEFAULT_RUN_GOSSIP_INTERVAL_MS)
    this.timer.unref?.()
    void this.resumeRuns().catch((err) => { this.log.error('resuming runs failed: %e', err) })
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    const { pubsub, events, loadView, registrar } = this.components
    clearInterval(this.timer)
    this.timer = undefined
    for (const run of this.own.values()) run.controller.abort(new NotStartedError('federated service stopped'))
    this.participant.stop()
    pubsub.removeEventListener('message', this.onMessage)
    events.removeEventListener('peer:disconnect', this.onDisconnect)
    loadView.removeEventListener('load:report', this.onReport)
    pubsub.topicValidators.delete(C.FEDRUNS_TOPIC)
    try { pubsub.unsubscribe(C.FEDRUNS_TOPIC) } catch {}
    await registrar.unhandle(C.FEDAVG_PROTOCOL)
    await Promise.all([...this.own.values()].map(async (r) => r.saving))
    this.own.clear()
    this.dataSets.clear()
  }

  runs (): RunSummary[] {
    const mine = [...this.own.values()].map((r) => r.summary)
    const ids = new Set(mine.map((r) => r.id))
    return [...mine, ...this.known.list().filter((r) => !ids.has(r.id))].sort((a, b) => b.startedAt - a.startedAt)
  }

  run (id: string): RunSummary | undefined {
    return this.own.get(id)?.summary ?? this.known.get(id)
  }

  async startRun (runSpec: RunSpec, options: AbortOptions = {}): Promise<StartedRun> {
    if (!this.started) throw new NotStartedError('federated service is not started')
    // A typed spec still needs its ranges checked and its defaults filled.
    const spec = parseRunSpec(runSpec)
    const seed = this.init.role === 'seed' ? undefined : this.seedPeer()
    if (seed !== undefined) {
      try {
        const { message } = await exchange(this.components.connectionManager, seed, { type: 'start', spec: spec as unknown as Record<string, unknown> }, undefined, 'started', {
          timeoutMs: C.DEFAULT_ANNOUNCE_TIMEOUT_MS, signal: options.signal
        })
        return { id: message.runId, coordinator: message.coordinator }
      } catch (err: any) {
        if (['InvalidConfigError', 'ModelNotFoundError', 'AbortError'].includes(err?.name)) throw err
        this.log('seed %s did not take the run (%s), coordinating it here', seed, err?.message)
      }
    }
    return this.startLocal(spec, options)
  }

  private seedPeer (): string | undefined {
    return this.components.loadView.peers().filter((p) => p.report.role === 'seed').map((p) => p.peerId).sort()[0]
  }

  private async startLocal (spec: RunSpec, options: AbortOptions): Promise<StartedRun> {
    let baseModelId: string
    let mlp: RunRecordFile['mlp']
    if (spec.model !== undefined) {
      await this.ensureModel(spec.model, [], options)
      baseModelId = spec.model
    } else {
      mlp = { ...MNIST_MLP, seed: spec.seed ?? 0, name: 'federated-mlp' }
      baseModelId = (await this.components.models.createMlp(mlp)).id
    }
    const record: RunRecordFile = { version: 1, id: newRunId(), spec, coordinator: this.selfId, startedAt: Date.now(), baseModelId, mlp }
    await this.files.create(record)
    this.launch(record, {
      id: record.id, state: 'running', strategy: spec.strategy, rounds: spec.rounds, completedRounds: 0,
      coordinator: this.selfId, globalModelId: baseModelId, startedAt: record.startedAt, history: []
    })
    return { id: record.id, coordinator: this.selfId }
  }

  private launch (record: RunRecordFile, summary: RunSummary): void {
    const run: OwnRun = { record, summary, controller: new AbortController(), saving: Promise.resolve() }
    this.own.set(record.id, run)
    this.changed(summary)
    void coordinate(this.coordinatorContext(), record, summary, run.controller.signal)
      .catch((err) => { this.log('run %s stopped: %s', record.id, err?.message) })
  }

  private coordinatorContext (): CoordinatorContext {
    return {
      models: this.components.models,
      files: this.files,
      log: this.log.newScope('coordinator'),
      keepGlobals: this.init.keepGlobals ?? C.DEFAULT_KEEP_GLOBALS,
      data: async (spec) => this.dataSets.get(spec),
      openGrid: (record) => {
        const grid = createMeshGrid({
          runId: record.id,
          selfId: this.selfId,
          local: this.participant.counts().length > 0 ? this.participant : undefined,
          loadView: this.components.loadView,
          clientCounts: (peerId) => this.clientCounts.get(peerId),
          announce: async (peerId, message, options) => (await exchange(this.components.connectionManager, peerId, message, undefined, 'accept', {
            timeoutMs: C.DEFAULT_ANNOUNCE_TIMEOUT_MS, signal: options.signal
          })).message,
          deadlineMs: record.spec.roundDeadlineMs ?? 60_000,
          attackFor: (clientId) => attackFor(record.spec, clientId)
        })
        this.grids.set(record.id, grid)
        return grid
      },
      closeGrid: (record) => { this.grids.delete(record.id) },
      waitForClients: async (grid, n, signal) => waitForClients({
        grid, n, signal, loadView: this.components.loadView, timeoutMs: this.init.waitForClientsMs ?? C.DEFAULT_WAIT_FOR_CLIENTS_MS,
        refresh: async () => this.clientCounts.refresh(this.components.loadView.peers(), signal)
      }),
      changed: (summary) => { this.changed(summary) }
    }
  }

  /** Save and publish a run's summary. */
  private changed (summary: RunSummary): void {
    const run = this.own.get(summary.id)
    if (run === undefined) return
    const copy = structuredClone(summary)
    this.announce(copy)
    run.saving = run.saving.then(async () => this.files.saveSummary(copy)).catch((err) => { this.log.error('saving run %s failed: %e', summary.id, err) })
    this.publish(copy)
  }

  /** Dispatch the events of what changed in an own run since the last call. */
  private announce (summary: RunSummary): void {
    const before = this.announced.get(summary.id) ?? { rounds: summary.completedRounds, state: 'running' }
    this.announced.set(summary.id, { rounds: summary.completedRounds, state: summary.state })
    for (const round of summary.history) {
      if (round.round > before.rounds) this.safeDispatchEvent('round:aggregated', { detail: { runId: summary.id, round } })
    }
    if (summary.state === before.state) return
    if (summary.state === 'completed') this.safeDispatchEvent('run:finished', { detail: summary })
    else if (summary.state !== 'running') this.safeDispatchEvent('run:failed', { detail: summary })
  }

  private publish (summary: RunSummary): void {
    if (!this.started) return
    try {
      const bytes = encodeRunAnnouncement({ seq: ++this.seq, run: summary })
      this.components.pubsub.publish(C.FEDRUNS_TOPIC, bytes).catch((err: any) => { this.log.trace('run summary not published: %s', err?.message) })
    } catch (err: any) {
      this.log.error('run summary not publishable: %s', err?.message)
    }
  }

  private readonly republish = (): void => {
    for (const run of this.own.values()) if (run.summary.state === 'running') this.publish(structuredClone(run.summary))
  }

  /** Resume the unfinished runs this node coordinated; list the finished ones. */
  private async resumeRuns (): Promise<void> {
    for (const { record, summary } of await this.files.scan()) {
      if (record.coordinator !== this.selfId || this.own.has(record.id)) continue
      const s: RunSummary = summary ?? {
        id: record.id, state: 'running', strategy: record.spec.strategy, rounds: record.spec.rounds, completedRounds: 0,
        coordinator: this.selfId, globalModelId: record.baseModelId, startedAt: record.startedAt, history: []
      }
      if (s.state !== 'running') {
        this.own.set(record.id, { record, summary: s, controller: new AbortController(), saving: Promise.resolve() })
        continue
      }
      // The checkpoint may be a round ahead of summary.json (stopped between the two writes).
      await restoreHistory(new FileCheckpointStore(this.files.dir(record.id)), s)
      try {
        if (record.mlp !== undefined && !this.components.models.has(record.baseModelId)) await this.components.models.createMlp(record.mlp)
        await this.ensureModel(record.baseModelId, [], {})
      } catch (err: any) {
        s.state = 'failed'
        s.error = { name: err?.name ?? 'Error', message: `cannot resume: ${String(err?.message)}` }
      }
      this.log('resuming run %s after round %d', record.id, s.completedRounds)
      if (s.state === 'running') this.launch(record, s)
      else this.own.set(record.id, { record, summary: s, controller: new AbortController(), saving: Promise.resolve() })
    }
  }

  /** Make a model available: loaded already, or fetched from `from` and the peers announcing it. */
  private async ensureModel (modelId: string, from: string[], options: AbortOptions): Promise<void> {
    await this.components.modelTransfer.ensure(modelId, { from, signal: options.signal })
  }

  private async pull (coordinator: string, runId: string, version: number, options: AbortOptions): Promise<WeightRecord> {
    const { record } = await exchange(this.components.connectionManager, coordinator, { type: 'pull', runId, version }, undefined, 'weights', {
      timeoutMs: C.DEFAULT_TRANSFER_TIMEOUT_MS, maxRecordBytes: this.init.maxRecordBytes, signal: options.signal
    })
    if (record === undefined) throw new ProtocolError('weights reply without a weight record')
    return record
  }

  private async push (coordinator: string, header: Omit<PushMessage, 'type' | 'weightBytes'>, weights: WeightRecord, options: AbortOptions): Promise<void> {
    await exchange(this.components.connectionManager, coordinator, { type: 'push', ...header, weightBytes: encodedWeightRecordSize(weights) }, weights, 'ack', {
      timeoutMs: C.DEFAULT_TRANSFER_TIMEOUT_MS, maxRecordBytes: this.init.maxRecordBytes, signal: options.signal
    })
  }

  private readonly onReport = (evt: CustomEvent<PeerLoad>): void => {
    if (this.grids.size > 0 && this.clientCounts.unknown(evt.detail)) void this.clientCounts.ask(evt.detail)
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peerId = evt.detail.toString()
    this.clientCounts.forget(peerId)
    for (const grid of this.grids.values()) grid.peerGone(peerId)
  }

  /** The inbound handler of `/edge-mesh/fedavg/1.0.0`; never rejects. */
  readonly handle = async (stream: Stream, connection: Connection): Promise<void> => {
    const from = connection.remotePeer.toString()
    await serveStream(stream, from, this.dispatch, {
      timeoutMs: this.init.streamTimeoutMs ?? C.DEFAULT_ANNOUNCE_TIMEOUT_MS,
      maxRecordBytes: this.init.maxRecordBytes,
      log: this.log.newScope('handler'),
      onReplied: (request, bytes) => {
        if (request.type === 'pull') this.grids.get(request.runId)?.recordPull(from, bytes)
      }
    })
  }

  private gridOf (runId: string): MeshGrid {
    const grid = this.grids.get(runId)
    if (grid === undefined) throw new RunNotFoundError(`this node coordinates no running run ${runId}`)
    return grid
  }

  private readonly dispatch: Dispatch = async ({ message, record }, ctx) => {
    const reply = (m: FedMessage, r?: WeightRecord): { message: FedMessage, record?: WeightRecord } => ({ message: m, record: r })
    switch (message.type) {
      case 'hello':
        return reply({ type: 'hello-ok', clients: this.participant.counts() })
      case 'announce':
        return reply(await this.participant.accept(message, ctx.from, { signal: ctx.signal }))
      case 'pull': {
        const weights = this.gridOf(message.runId).weightsFor(message.version)
        return reply({ type: 'weights', runId: message.runId, version: message.version, weightBytes: encodedWeightRecordSize(weights) }, weights)
      }
      case 'push':
        this.gridOf(message.runId).deliver(ctx.from, message, record as WeightRecord, ctx.bytesIn)
        return reply({ type: 'ack' })
      case 'start': {
        const started = await this.startLocal(parseRunSpec(message.spec), { signal: ctx.signal })
        return reply({ type: 'started', runId: started.id, coordinator: started.coordinator })
      }
      default:
        throw new ProtocolError(`${message.type} is not a request`)
    }
  }

  /** gossipsub validator of run summaries: malformed ones and ones not from their coordinator are rejected. */
  private readonly validate = (_peer: PeerId, message: Message): TopicValidatorResult => {
    if (message.type !== 'signed') return TopicValidatorResult.Reject
    try {
      const a = decodeRunAnnouncement(message.data)
      return a.run.coordinator === message.from.toString() ? TopicValidatorResult.Accept : TopicValidatorResult.Reject
    } catch {
      return TopicValidatorResult.Reject
    }
  }

  private readonly onMessage = (evt: CustomEvent<Message>): void => {
    const message = evt.detail
    if (message.topic !== C.FEDRUNS_TOPIC || message.type !== 'signed') return
    const from = message.from.toString()
    if (from === this.selfId) return
    try {
      this.known.apply(from, decodeRunAnnouncement(message.data))
    } catch {}
  }
}

/** Create the federated service. */
export function federated (init: FederatedInit = {}): (components: FederatedComponents) => FederatedService {
  return (components) => new FederatedService(components, init)
}
