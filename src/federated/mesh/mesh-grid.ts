/**
 * The Grid over `/edge-mesh/fedavg/1.0.0`, for one run on its coordinator.
 *
 * Clients are `<peerId>#<index>`: every virtual client of every peer whose
 * load report says `canTrain` (its client count learned by HELLO, one client
 * assumed until then), plus this node's own clients when it holds data
 * (trained in-process, no network). Load hints come from the reports, so
 * sampling prefers idle peers.
 *
 * `train()` registers a pending request keyed by round, attempt and client,
 * sends ANNOUNCE, then waits for that client's PUSH (`deliver`), its
 * disconnection (`peerGone`) or the round's signal, whichever comes first.
 * Pushed updates are validated against the global weights before they can
 * resolve the request; a bad one fails that client with InvalidUpdateError.
 * A PUSH may claim at most the examples its client declared in ACCEPT (itself
 * capped by `maxExamples`): more is InvalidUpdateError, so one participant
 * cannot outweigh the others in FedAvg by inflating its count.
 * Byte counters are the real bytes of PULL replies and PUSH requests; the
 * coordinator's own clients move no bytes, and are counted with the encoded
 * size of what they would have moved (as the memory grid counts), so a round's
 * traffic covers every client.
 * With a run's `uplink` (compression, local DP: `privacy/uplink-wire.ts`),
 * every ANNOUNCE carries the round's settings, a compressed PUSH is bounded
 * before it is read (`checkPush`) and decoded before validation, and this
 * node's own clients go through the same encoding.
 */
import { InvalidUpdateError, LateUpdateError, PeerDisconnectedError, StaleVersionError } from '../../errors.js'
import { checkPushedExamples } from './bounds.js'
import { announceFields } from './head.js'
import { DEFAULT_MAX_EXAMPLES } from '../constants.js'
import { validateUpdate } from '../weights/validate.js'
import { ParticipantUplinks } from '../privacy/participant-uplink.js'
import { uplinkAnnounceFields } from '../privacy/uplink-wire.js'
import { encodedWeightRecordSize } from '../weights/codec.js'
import type { UplinkPolicy } from '../privacy/uplink-wire.js'
import type { ClientInfo, ClientLoad, ClientUpdate, Grid, TrainRequest } from '../grid.js'
import type { FeatureBase } from './head.js'
import type { ParticipantRound } from './round-log.js'
import type { AcceptMessage, AnnounceMessage, PushMessage } from './protocol/messages.js'
import type { LoadView, PeerLoad } from '../../gossip/types.js'
import type { TrainResult, WeightRecord } from '../../model/types.js'
import type { AbortOptions } from '@libp2p/interface'

/** This node's own virtual clients, as the grid uses them. */
export interface LocalClients {
  counts(): number[]
  /** The data key of each client (`datasetKey`). */
  dataKeys?(): number[]
  isTraining(): boolean
  train(index: number, baseModelId: string, global: WeightRecord, config: TrainRequest['config'], options: AbortOptions, head?: FeatureBase): Promise<TrainResult>
}

export interface MeshGridInit {
  runId: string
  selfId: string
  local?: LocalClients
  loadView: Pick<LoadView, 'peers'>
  /** Client counts of a peer learned by HELLO; undefined = unknown (one client assumed). */
  clientCounts(peerId: string): number[] | undefined
  /** Data keys of a peer's clients learned by HELLO (`datasetKey`); undefined = unknown. */
  clientKeys?(peerId: string): number[] | undefined
  /** Send an ANNOUNCE and wait for ACCEPT (rejects with the participant's named error). */
  announce(peerId: string, message: AnnounceMessage, options: AbortOptions): Promise<AcceptMessage>
  /** Time given to a participant to push, ms (the round deadline). */
  deadlineMs: number
  /** Largest `numExamples` a PUSH may claim, whatever the client declared. @default 1000000 */
  maxExamples?: number
  /** Called with the reason of every refused PUSH (for /metrics). */
  onRefused?(reason: string): void
  /** The run's compression and local DP; undefined = float32 weight records. */
  uplink?: UplinkPolicy
  /** A head run's frozen base: named in every ANNOUNCE, used by local clients. */
  head?: FeatureBase
  /** Called after each update of this node's own clients (they skip the wire, so the participant does not log them). */
  onLocalUpdate?(round: ParticipantRound): void
}

/** What follows a PUSH: a weight record, or a compressed update (`encoding: "compressed"`). */
export interface PushPayload { record?: WeightRecord, compressed?: Uint8Array }

interface Pending {
  peerId: string
  /** Examples the client declared in its ACCEPT; a PUSH may claim no more. */
  declared?: number
  resolve(update: ClientUpdate): void
  reject(err: Error): void
}

/** Split `<peerId>#<index>`. */
export function parseClientId (clientId: string): { peerId: string, index: number } {
  const at = clientId.lastIndexOf('#')
  const index = Number(clientId.slice(at + 1))
  if (at <= 0 || !Number.isInteger(index) || index < 0) throw new InvalidUpdateError(`not a mesh client id: ${clientId}`)
  return { peerId: clientId.slice(0, at), index }
}

function loadHint (p: PeerLoad): ClientLoad {
  if (p.report.training) return 'training'
  return p.report.inFlight + p.report.queued >= Math.max(1, p.report.capacity) ? 'busy' : 'idle'
}

export class MeshGrid implements Grid {
  private global?: { version: number, weights: WeightRecord }
  private readonly pending = new Map<string, Pending>()
  private readonly attempts = new Map<string, number>()
  private readonly pullBytes = new Map<string, number>()
  private readonly asked = new Set<string>()
  private readonly localUplinks = new ParticipantUplinks()
  /** Bytes received in PUSH requests (accepted or not). */
  bytesUp = 0
  /** Bytes sent in PULL replies. */
  bytesDown = 0

  constructor (private readonly init: MeshGridInit) {}

  clients (): ClientInfo[] {
    const out: ClientInfo[] = []
    const local = this.init.local
    const localKeys = local?.dataKeys?.()
    local?.counts().forEach((n, i) => {
      out.push({ id: `${this.init.selfId}#${i}`, numExamples: n, load: local.isTraining() ? 'training' : 'idle', dataKey: localKeys?.[i] })
    })
    const peers = this.init.loadView.peers()
      .filter((p) => p.report.canTrain && p.peerId !== this.init.selfId)
      .sort((a, b) => (a.peerId < b.peerId ? -1 : 1))
    for (const p of peers) {
      const counts = this.init.clientCounts(p.peerId) ?? [undefined]
      const keys = this.init.clientKeys?.(p.peerId)
      counts.forEach((n, i) => out.push({ id: `${p.peerId}#${i}`, numExamples: n, load: loadHint(p), dataKey: keys?.[i] }))
    }
    return out
  }

  /** The global weights of `version`, for a PULL. */
  weightsFor (version: number): WeightRecord {
    if (this.global === undefined || this.global.version !== version) {
      throw new StaleVersionError(`run ${this.init.runId} holds version ${this.global?.version ?? 'none'}, not ${version}`)
    }
    return this.global.weights
  }

  /** Serve `weights` as `version` to PULLs, and remember `peerId` was asked (secure rounds ask clients to train without `train()`). */
  offer (version: number, weights: WeightRecord, peerId: string): void {
    if (this.global?.version !== version) this.global = { version, weights }
    this.asked.add(peerId)
  }

  /** Remote peers this grid sent an ANNOUNCE to (told with CANCEL when the run is cancelled). */
  askedPeers (): ReadonlySet<string> {
    return this.asked
  }

  /** Count the bytes of a PULL reply sent to `peerId`. */
  recordPull (peerId: string, bytes: number): void {
    this.bytesDown += bytes
    this.pullBytes.set(peerId, (this.pullBytes.get(peerId) ?? 0) + bytes)
  }

  async train (clientId: string, request: TrainRequest, options: AbortOptions): Promise<ClientUpdate> {
    options.signal?.throwIfAborted()
    const { peerId, index } = parseClientId(clientId)
    if (this.global?.version !== request.modelVersion) this.global = { version: request.modelVersion, weights: request.weights }
    if (peerId === this.init.selfId && this.init.local !== undefined) return this.trainLocal(clientId, index, request, options)
    this.asked.add(peerId)
    const tries = `${request.round}/${clientId}`
    const attempt = (this.attempts.get(tries) ?? 0) + 1
    this.attempts.set(tries, attempt)
    const key = `${request.round}/${attempt}/${clientId}`
    const answer = new Promise<ClientUpdate>((resolve, reject) => {
      this.pending.set(key, { peerId, resolve, reject })
    })
    const onAbort = (): void => { this.fail(key, options.signal?.reason ?? new LateUpdateError('round closed')) }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const c = request.config
      const accepted = await this.init.announce(peerId, {
        type: 'announce', runId: this.init.runId, round: request.round, attempt, version: request.modelVersion,
        globalModelId: '', baseModelId: request.baseModelId, clientIndex: index,
        epochs: c.epochs, batchSize: c.batchSize, learningRate: c.learningRate, proximalMu: c.proximalMu, seed: c.seed,
        deadlineMs: Math.max(1, Math.round(this.init.deadlineMs)),
        ...announceFields(this.init.head),
        ...(this.init.uplink === undefined ? {} : uplinkAnnounceFields(this.init.uplink.round(request.round)))
      }, options)
      const p = this.pending.get(key)
      if (p !== undefined) p.declared = accepted.numExamples
    } catch (err: any) {
      this.fail(key, err)
    }
    try {
      return await answer
    } finally {
      options.signal?.removeEventListener('abort', onAbort)
    }
  }

  private async trainLocal (clientId: string, index: number, request: TrainRequest, options: AbortOptions): Promise<ClientUpdate> {
    const result = await this.init.local!.train(index, request.baseModelId, request.weights, request.config, options, this.init.head)
    let weights = result.weights
    let up = encodedWeightRecordSize(result.weights)
    const uplink = this.init.uplink
    if (uplink !== undefined && !uplink.plain) {
      const fields = { runId: this.init.runId, clientIndex: index, round: request.round, ...uplinkAnnounceFields(uplink.round(request.round)) }
      const encoded = this.localUplinks.encode(this.init.selfId, fields, request.weights, weights)
      if (encoded.kind === 'compressed') up = encoded.bytes.byteLength
      weights = uplink.decode(request.weights, request.round, encoded.kind === 'compressed' ? { compressed: encoded.bytes } : { record: encoded.weights })
    }
    const bytes = { down: encodedWeightRecordSize(request.weights), up }
    this.bytesDown += bytes.down
    this.bytesUp += bytes.up
    this.init.onLocalUpdate?.({
      runId: this.init.runId, round: request.round, clientIndex: index, numExamples: result.numExamples, loss: result.loss,
      bytesUp: bytes.up, bytesDown: bytes.down, trainMs: result.trainMs
    })
    return {
      clientId,
      weights,
      numExamples: result.numExamples,
      metrics: { loss: result.loss, accuracy: result.accuracy, trainMs: result.trainMs },
      bytes
    }
  }

  private fail (key: string, err: Error): void {
    const p = this.pending.get(key)
    if (p === undefined) return
    this.pending.delete(key)
    p.reject(err)
  }

  /** Refuse a compressed PUSH larger than the run's encoding allows before its data is read (MessageTooLargeError). */
  checkPush (push: PushMessage): void {
    if (this.global !== undefined) this.init.uplink?.checkSize(this.global.weights, push)
  }

  /**
   * A PUSH from `from`: resolve the matching request, or throw LateUpdateError
   * (no open request), StaleVersionError or InvalidUpdateError (the request
   * then fails with the same error, recorded as that client's failure). The
   * payload is a weight record, or a compressed update the run's uplink decodes.
   */
  deliver (from: string, push: PushMessage, payload: WeightRecord | PushPayload, bytesIn: number): void {
    this.bytesUp += bytesIn
    const clientId = `${from}#${push.clientIndex}`
    const key = `${push.round}/${push.attempt}/${clientId}`
    const p = this.pending.get(key)
    if (p === undefined) throw new LateUpdateError(`no open request for ${clientId} in round ${push.round} (attempt ${push.attempt}) of ${this.init.runId}`)
    let weights: WeightRecord
    try {
      if (this.global === undefined || push.version !== this.global.version) throw new StaleVersionError(`update trained from version ${push.version}, the round uses ${this.global?.version ?? 'none'}`)
      const inflated = checkPushedExamples(p.declared, push.numExamples, this.init.maxExamples ?? DEFAULT_MAX_EXAMPLES)
      if (inflated !== undefined) {
        this.init.onRefused?.(inflated.bound)
        throw new InvalidUpdateError(inflated.message)
      }
      weights = this.decodePush(push, Array.isArray(payload) ? { record: payload } : payload)
      validateUpdate(this.global.weights, weights, push.numExamples)
    } catch (err: any) {
      this.fail(key, err)
      throw err
    }
    this.pending.delete(key)
    const down = this.pullBytes.get(from) ?? 0
    this.pullBytes.delete(from)
    p.resolve({
      clientId,
      weights,
      numExamples: push.numExamples,
      metrics: { loss: push.loss, accuracy: push.accuracy, trainMs: push.trainMs },
      bytes: { down, up: bytesIn }
    })
  }

  private decodePush (push: PushMessage, payload: PushPayload): WeightRecord {
    const global = (this.global as { weights: WeightRecord }).weights
    if (this.init.uplink !== undefined) return this.init.uplink.decode(global, push.round, payload)
    if (payload.record === undefined) {
      this.init.onRefused?.('compression_mismatch')
      throw new InvalidUpdateError('this run does not compress updates: push a weight record')
    }
    return payload.record
  }

  /** A peer disconnected: its waiting clients fail now instead of at the deadline. */
  peerGone (peerId: string): void {
    for (const [key, p] of [...this.pending]) {
      if (p.peerId === peerId) this.fail(key, new PeerDisconnectedError(`${peerId} disconnected during the round`))
    }
  }

  /** Fail every waiting request (the run stopped). */
  close (err: Error): void {
    for (const key of [...this.pending.keys()]) this.fail(key, err)
  }
}

/** Create the mesh grid of one run. */
export function createMeshGrid (init: MeshGridInit): MeshGrid {
  return new MeshGrid(init)
}
