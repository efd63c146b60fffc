/**
 * The federated service: federated averaging across the mesh.
 *
 * - **Participant.** A node started with `--data` holds one virtual client per
 *   spec of its `default` dataset, says `canTrain` in its load reports, and
 *   answers ANNOUNCE on `/edge-mesh/fedavg/1.0.0` from coordinators it trusts
 *   (`trust.ts`) within its bounds (`bounds.ts`): it fetches the base model by
 *   content id when it lacks it, pulls the global weights, trains and pushes
 *   its update. A job stops at its deadline, when its coordinator disconnects
 *   or cancels the run.
 * - **Coordinator.** `startRun` runs `runFederated` over a mesh grid of every
 *   trainable peer; an edge forwards the run with START to a trusted seed (one
 *   it bootstraps from or names with `--trust`) and coordinates it itself when
 *   none takes it. START and CANCEL are obeyed only from trusted peers. Each round's global model
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
import { serviceCapabilities, serviceDependencies } from '@libp2p/interface'
import { TypedEventEmitter } from 'main-event'
import { CAPABILITY } from '../../capabilities.js'
import { LimitExceededError, NotStartedError, RunNotFoundError, UntrustedPeerError } from '../../errors.js'
import { MAX_FEATURE_SETS } from '../constants.js'
import { checkCoordinatedRuns, checkRunSpec, resolveBounds } from './bounds.js'
import { ClientCounts } from './client-counts.js'
import { createCoordinatorContext } from './coordinator-context.js'
import { createDispatch } from './dispatch.js'
import { LocalDatasets } from './local-datasets.js'
import { HeadFeatures, prepareHeadRun } from './head.js'
import { createParticipant } from './participant-factory.js'
import { serveStream } from './protocol/handler.js'
import { exchange } from './protocol/wire.js'
import * as C from './protocol/constants.js'
import { Refusals } from './refusals.js'
import { RunEventAnnouncer } from './run-events.js'
import { forwardToSeed, trustedSeed } from './run-control.js'
import { KnownRuns } from './run-gossip.js'
import { receiveRunMessage, validateRunMessage } from './run-gossip-pubsub.js'
import { OwnRuns } from './own-runs.js'
import { newRunId } from './run-id.js'
import { RunFiles, freshSummary, parseRunSpec } from './runs.js'
import { isTrusted, readTrustFile, trustPolicy } from './trust.js'
import type { FederatedBounds, Violation } from './bounds.js'
import type { TrustPolicy } from './trust.js'
import type { MeshGrid } from './mesh-grid.js'
import { SecAggParticipant } from './secagg-participant.js'
import type { Participant } from './participant.js'
import type { Dispatch } from './protocol/handler.js'
import type { RunRecordFile, RunSpec } from './runs.js'
import type { Federated, FederatedComponents, FederatedInit, StartedRun } from './service-api.js'
export type { Federated, FederatedComponents, FederatedInit, RunPubSub, StartedRun } from './service-api.js'
import type { FederatedEvents, RunSummary } from './service-types.js'
import type { PeerLoad } from '../../gossip/types.js'
import type { Dataset } from '../../model/types.js'
import type { Message } from '@libp2p/gossipsub'
import type { AbortOptions, Connection, Logger, PeerId, Startable, Stream } from '@libp2p/interface'

const MNIST_MLP = { inputSize: 784, hidden: [200, 200], classes: 10 }

export class FederatedService extends TypedEventEmitter<FederatedEvents> implements Federated, Startable {
  readonly [Symbol.toStringTag] = '@edge-mesh/federated'
  readonly [serviceCapabilities]: string[] = [CAPABILITY.federated]
  readonly [serviceDependencies]: string[] = [CAPABILITY.models, CAPABILITY.localLoad, CAPABILITY.loadView, CAPABILITY.modelTransfer, CAPABILITY.pubsub]
  private readonly log: Logger
  private readonly selfId: string
  private readonly files: RunFiles
  private readonly own: OwnRuns
  private readonly known = new KnownRuns()
  private readonly grids = new Map<string, MeshGrid>()
  private readonly clientCounts: ClientCounts
  private participant: Participant
  private readonly secagg: SecAggParticipant
  private readonly bounds: FederatedBounds
  private readonly refused = new Refusals()
  private trust: TrustPolicy = { peers: new Set(), meshMembers: false }
  private datasets: LocalDatasets
  private readonly features: HeadFeatures
  private timer?: ReturnType<typeof setInterval>
  private started = false
  private readonly runEvents = new RunEventAnnouncer(this)

  constructor (private readonly components: FederatedComponents, private readonly init: FederatedInit = {}) {
    super()
    this.log = components.logger.forComponent('edge-mesh:federated')
    this.selfId = components.peerId.toString()
    this.files = new RunFiles(join(init.dataDir ?? '.edge-mesh', 'federated'))
    this.bounds = resolveBounds({ ...init.bounds, ...(init.maxRecordBytes === undefined ? {} : { maxWeightBytes: init.maxRecordBytes }) })
    this.features = new HeadFeatures(components.models, MAX_FEATURE_SETS, this.log.newScope('head'))
    this.participant = this.makeParticipant([])
    this.secagg = new SecAggParticipant({ participant: () => this.participant, log: this.log.newScope('secagg'), onRefused: (reason) => { this.refused.add(reason) } })
    this.datasets = new LocalDatasets(undefined, this.log, C.MAX_COORDINATOR_DATA_SETS)
    this.clientCounts = new ClientCounts(components.connectionManager, this.log.newScope('hello'))
    this.own = new OwnRuns({
      components, files: this.files, selfId: this.selfId, log: this.log, grids: this.grids, features: this.features, events: this.runEvents,
      context: (changed) => createCoordinatorContext({
        components, init, selfId: this.selfId, files: this.files, log: this.log, bounds: this.bounds, clientCounts: this.clientCounts,
        grids: this.grids, participant: () => this.participant, datasets: () => this.datasets, features: this.features,
        onRefused: (reason) => { this.refused.add(reason) }, changed
      }),
      ensureModel: async (modelId) => this.ensureModel(modelId, [], {}),
      started: () => this.started
    })
  }

  private makeParticipant (clients: Dataset[]): Participant {
    return createParticipant({
      clients,
      components: this.components,
      init: this.init,
      bounds: this.bounds,
      features: this.features,
      ensureModel: async (id, from, options) => this.ensureModel(id, from, options),
      onRefused: (bound) => { this.refused.add(bound) },
      log: this.log
    })
  }

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    if (this.started) return
    this.trust = trustPolicy({
      trust: [...(this.init.trust ?? []), ...(this.init.trustFile === undefined ? [] : await readTrustFile(this.init.trustFile))],
      bootstrap: this.init.bootstrap,
      trustMesh: this.init.trustMesh,
      meshKey: this.init.meshKey
    })
    this.datasets = new LocalDatasets(this.init.data, this.log.newScope('datasets'), C.MAX_COORDINATOR_DATA_SETS)
    const clients = await this.datasets.trainingClients()
    this.participant = this.makeParticipant(clients)
    if (clients.length > 0) this.components.localLoad.update({ canTrain: true })
    await this.components.registrar.handle(C.FEDAVG_PROTOCOL, this.handle, {
      maxInboundStreams: this.init.maxInboundStreams ?? C.DEFAULT_MAX_INBOUND_STREAMS,
      maxOutboundStreams: C.DEFAULT_MAX_OUTBOUND_STREAMS
    })
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
    this.timer = setInterval(this.own.republish, this.init.runGossipIntervalMs ?? C.DEFAULT_RUN_GOSSIP_INTERVAL_MS)
    this.timer.unref?.()
    void this.own.resume().catch((err) => { this.log.error('resuming runs failed: %e', err) })
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    const { pubsub, events, loadView, registrar } = this.components
    clearInterval(this.timer)
    this.timer = undefined
    const stopped = this.own.stopAll(new NotStartedError('federated service stopped'))
    this.participant.stop()
    this.secagg.stop()
    pubsub.removeEventListener('message', this.onMessage)
    events.removeEventListener('peer:disconnect', this.onDisconnect)
    loadView.removeEventListener('load:report', this.onReport)
    pubsub.topicValidators.delete(C.FEDRUNS_TOPIC)
    try { pubsub.unsubscribe(C.FEDRUNS_TOPIC) } catch {}
    await registrar.unhandle(C.FEDAVG_PROTOCOL)
    await stopped
    this.datasets.clear()
    this.features.clear()
  }

  /** True when `peerId` may make this node train, or ask it to coordinate or cancel. */
  trusts (peerId: string): boolean {
    return isTrusted(this.trust, this.selfId, peerId)
  }

  /** Refusals by reason, for /metrics. */
  refusals (): Record<string, number> {
    return this.refused.snapshot()
  }

  /** Secure aggregation requests received, by stage, for /metrics. */
  secAggStages (): Record<string, number> {
    return this.secagg.answered()
  }

  private refuse (reason: string, err: Error): never {
    this.refused.add(reason)
    throw err
  }

  runs (): RunSummary[] {
    const mine = this.own.all().map((r) => r.summary)
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
    const seed = this.init.role === 'seed' ? undefined : trustedSeed(this.components.loadView, this.trust)
    if (seed !== undefined) {
      const started = await forwardToSeed(this.components.connectionManager, seed, spec, this.log, options)
      if (started !== undefined) return started
    }
    return this.startLocal(spec, options)
  }

  /** Refuse a spec beyond this node's bounds or naming a dataset it does not hold. */
  private checkSpec (spec: RunSpec): void {
    const violation: Violation | undefined = checkRunSpec(this.bounds, spec) ?? checkCoordinatedRuns(this.bounds, this.own.running())
    if (violation !== undefined) this.refuse(violation.bound, new LimitExceededError(violation.message))
    for (const [field, ref] of [['evalData', spec.evalData], ['rootData', spec.rootData]] as const) {
      if (ref !== undefined) this.datasets.specOf(ref, field)
    }
  }

  private async startLocal (spec: RunSpec, options: AbortOptions): Promise<StartedRun> {
    this.checkSpec(spec)
    let baseModelId: string
    let mlp: RunRecordFile['mlp']
    let head: RunRecordFile['head']
    if (spec.base !== undefined && spec.head !== undefined) {
      ({ baseModelId, mlp, head } = await prepareHeadRun(this.components.models, spec.base, spec.head, spec.seed ?? 0))
    } else if (spec.model !== undefined) {
      await this.ensureModel(spec.model, [], options)
      baseModelId = spec.model
    } else {
      mlp = { ...MNIST_MLP, seed: spec.seed ?? 0, name: 'federated-mlp' }
      baseModelId = (await this.components.models.createMlp(mlp)).id
    }
    const record: RunRecordFile = { version: 1, id: newRunId(this.selfId), spec, coordinator: this.selfId, startedAt: Date.now(), baseModelId, mlp, head }
    await this.files.create(record)
    this.own.launch(record, freshSummary(record))
    return { id: record.id, coordinator: this.selfId }
  }

  async cancelRun (id: string, options: AbortOptions = {}): Promise<RunSummary> {
    if (!this.started) throw new NotStartedError('federated service is not started')
    const own = this.own.get(id)
    if (own !== undefined) {
      await this.own.cancel(own)
      return own.summary
    }
    const known = this.known.get(id)
    if (known === undefined) throw new RunNotFoundError(`no federated run ${id} is known to this node`)
    await exchange(this.components.connectionManager, known.coordinator, { type: 'cancel', runId: id }, undefined, 'ack', {
      timeoutMs: C.DEFAULT_CONTROL_TIMEOUT_MS, signal: options.signal
    })
    return known
  }

  /** Make a model available: loaded already, or fetched from `from` and the peers announcing it. */
  private async ensureModel (modelId: string, from: string[], options: AbortOptions): Promise<void> {
    await this.components.modelTransfer.ensure(modelId, { from, signal: options.signal })
  }

  private readonly onReport = (evt: CustomEvent<PeerLoad>): void => {
    if (this.grids.size > 0 && this.clientCounts.unknown(evt.detail)) void this.clientCounts.ask(evt.detail)
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peerId = evt.detail.toString()
    const stopped = this.participant.coordinatorGone(peerId)
    this.secagg.forget(peerId)
    if (stopped > 0) this.log('coordinator %s disconnected: stopped %d jobs', peerId, stopped)
    this.clientCounts.forget(peerId)
    for (const grid of this.grids.values()) grid.peerGone(peerId)
  }

  /** The inbound handler of `/edge-mesh/fedavg/1.0.0`; never rejects. */
  readonly handle = async (stream: Stream, connection: Connection): Promise<void> => {
    const from = connection.remotePeer.toString()
    await serveStream(stream, from, this.dispatch, {
      timeoutMs: this.init.streamTimeoutMs ?? C.DEFAULT_ANNOUNCE_TIMEOUT_MS,
      maxRecordBytes: this.init.maxRecordBytes,
      checkPayload: (message) => { if (message.type === 'push') this.grids.get(message.runId)?.checkPush(message) },
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

  private readonly dispatch: Dispatch = createDispatch({
    trusts: (peerId) => this.trusts(peerId),
    refuse: (reason, err) => this.refuse(reason, err),
    participant: () => this.participant,
    secagg: () => this.secagg,
    gridOf: (runId) => this.gridOf(runId),
    startLocal: async (spec, options) => this.startLocal(spec, options),
    onCancel: async (runId, from) => this.onCancel(runId, from)
  })

  /**
   * A CANCEL: for a run this node coordinates, from a peer trusted to START;
   * otherwise it stops this node's jobs of that run asked for by the sender
   * (so only the run's coordinator can stop them).
   */
  private async onCancel (runId: string, from: string): Promise<void> {
    const own = this.own.get(runId)
    if (own !== undefined) {
      if (!this.trusts(from)) this.refuse('untrusted_cancel', new UntrustedPeerError('only peers this coordinator trusts may cancel its runs'))
      await this.own.cancel(own)
      return
    }
    const stopped = this.participant.cancel(runId, from)
    this.secagg.forget(from, runId)
    if (stopped > 0) this.log('run %s cancelled by its coordinator: stopped %d jobs', runId, stopped)
  }

  /** gossipsub validator of run summaries (see `validateRunMessage`). */
  private readonly validate = validateRunMessage

  private readonly onMessage = (evt: CustomEvent<Message>): void => {
    receiveRunMessage(this.known, this.selfId, evt.detail)
  }
}

/** Create the federated service. */
export function federated (init: FederatedInit = {}): (components: FederatedComponents) => FederatedService {
  return (components) => new FederatedService(components, init)
}
