/**
 * The participant side of a federated run on one node: its virtual clients
 * (one per `--data` spec), answering ANNOUNCE (check, make the base model
 * available, accept), then in the background PULL the global weights, train
 * the client's copy with the model runtime (setting `training` in the local
 * load while it runs and yielding between batches), and PUSH the update.
 * A job ends by the deadline the coordinator gave (bounded by the node's
 * `maxDeadlineMs`), when its coordinator disconnects or cancels the run,
 * whatever happens. For a head run (ANNOUNCE names a feature base) the
 * client trains the head on the features of its examples, computed locally
 * with the frozen base of this node's own installed package (`head.ts`).
 * Byzantine behaviour exists only as this node's own
 * experiment setting (`byzantine.ts`), never as something a peer asks for.
 */
import { LimitExceededError, NoTrainingDataError, NotStartedError, PeerBusyError, RunCancelledError } from '../../errors.js'
import { checkAnnounce, checkParticipatingRuns, resolveBounds } from './bounds.js'
import { byzantineData, byzantineUpdate } from './byzantine.js'
import { featureBaseOf } from './head.js'
import { DEFAULT_TRAIN_CONCURRENCY } from './protocol/constants.js'
import { createLimiter } from '../limiter.js'
import { deriveSeed } from '../rng.js'
import { DatasetKeys, clientTrainingSeed } from '../data-key.js'
import { encodedWeightRecordSize } from '../weights/codec.js'
import { infoLogger, participantLogLine } from './round-log.js'
import type { FederatedBounds, Violation } from './bounds.js'
import type { ByzantineBehaviour } from './byzantine.js'
import type { FederatedTrainConfig } from '../grid.js'
import type { FeatureBase, HeadFeatures } from './head.js'
import type { AcceptMessage, AnnounceMessage, PushMessage } from './protocol/messages.js'
import type { LocalLoad } from '../../gossip/types.js'
import type { Dataset, ModelRuntime, TrainResult, WeightRecord } from '../../model/types.js'
import type { AbortOptions, Logger } from '@libp2p/interface'

export interface ParticipantInit {
  /** The node's virtual clients, by index. */
  clients: Dataset[]
  runtime: Pick<ModelRuntime, 'train'>
  localLoad: Pick<LocalLoad, 'update'>
  /** Make `modelId` available locally, fetching it from `coordinator` or announcers. */
  ensureModel(modelId: string, coordinator: string, options: AbortOptions): Promise<void>
  /** Pull the global weights of `version` from the coordinator. */
  pull(coordinator: string, runId: string, version: number, options: AbortOptions): Promise<WeightRecord>
  /** Push an update to the coordinator. */
  push(coordinator: string, header: Omit<PushMessage, 'type' | 'weightBytes'>, weights: WeightRecord, options: AbortOptions): Promise<void>
  /** Frozen bases and features of head runs; such runs are refused without it. */
  features?: Pick<HeadFeatures, 'ensureBase' | 'of'>
  /** Trainings at once. @default 1 */
  concurrency?: number
  /** Bounds on what an ANNOUNCE may ask. @default resolveBounds() */
  bounds?: FederatedBounds
  /** Experiment-only: this node's own byzantine behaviour (`--byzantine`), never set by a peer. */
  byzantine?: ByzantineBehaviour
  /** Called with the bound of every refused ANNOUNCE (for /metrics). */
  onRefused?(bound: Violation['bound']): void
  log: Logger
}

/**
 * Where a job's trained update goes instead of a PUSH (secure aggregation
 * masks it first, `secagg-participant.ts`); `fail` hears why there is none.
 */
export interface UpdateSink {
  deliver(result: TrainResult, global: WeightRecord, declared: number): void
  fail(err: Error): void
}

interface Job {
  runId: string
  coordinator: string
  controller: AbortController
}

export class Participant {
  /** The job of each busy client; a newer request of the same run replaces it (its update would be late). */
  private readonly busy = new Map<number, Job>()
  private readonly limiter
  private readonly bounds: FederatedBounds
  private readonly pulls = new Map<string, { version: number, weights: Promise<WeightRecord> }>()
  private training = 0
  private readonly keys = new DatasetKeys()
  private readonly info: Logger

  constructor (private readonly init: ParticipantInit) {
    this.limiter = createLimiter(init.concurrency ?? DEFAULT_TRAIN_CONCURRENCY)
    this.bounds = init.bounds ?? resolveBounds()
    this.info = infoLogger(init.log)
  }

  /** Examples of each virtual client (the HELLO answer). */
  counts (): number[] {
    return this.init.clients.map((c) => c.count)
  }

  /** The data key of each virtual client (`datasetKey`): what its training seed and its place in sampling come from. */
  dataKeys (): number[] {
    return this.init.clients.map((c) => this.keys.of(c))
  }

  /** True while any client trains. */
  isTraining (): boolean {
    return this.training > 0
  }

  /** Answer an ANNOUNCE: refuse, or make the base model available, accept and start the job (its update goes to `sink` when given, else by PUSH). */
  async accept (a: AnnounceMessage, coordinator: string, options: AbortOptions, sink?: UpdateSink): Promise<AcceptMessage> {
    const clients = this.init.clients
    if (clients.length === 0) throw new NoTrainingDataError('this node holds no training data (start it with --data)')
    const data = clients[a.clientIndex]
    if (data === undefined) throw new NoTrainingDataError(`no virtual client #${a.clientIndex}: this node has ${clients.length}`)
    const current = this.busy.get(a.clientIndex)
    if (current !== undefined && (current.runId !== a.runId || current.coordinator !== coordinator)) throw new PeerBusyError(`client #${a.clientIndex} is training for run ${current.runId}`)
    const head = featureBaseOf(a)
    const violation = checkAnnounce(this.bounds, a) ?? checkParticipatingRuns(this.bounds, this.activeRuns(), a.runId)
    if (violation !== undefined) {
      this.init.onRefused?.(violation.bound)
      throw new LimitExceededError(violation.message)
    }
    if (head !== undefined && this.init.features === undefined) throw new NotStartedError('this node cannot compute features for head runs')
    current?.controller.abort()
    const job: Job = { runId: a.runId, coordinator, controller: new AbortController() }
    this.busy.set(a.clientIndex, job)
    const release = (): void => { if (this.busy.get(a.clientIndex) === job) this.busy.delete(a.clientIndex) }
    try {
      await this.init.ensureModel(a.baseModelId, coordinator, options)
      if (head !== undefined) await this.init.features?.ensureBase(head)
    } catch (err) {
      release()
      throw err
    }
    const numExamples = Math.min(data.count, this.bounds.maxExamples, head?.examples ?? Infinity)
    void this.job(a, coordinator, numExamples, head, job.controller, sink).finally(release)
    return { type: 'accept', numExamples }
  }

  /** Runs some client trains for now. */
  activeRuns (): Set<string> {
    return new Set([...this.busy.values()].map((j) => j.runId))
  }

  /** Abort the jobs of `runId` that `coordinator` asked for (its CANCEL); returns how many stopped. */
  cancel (runId: string, coordinator: string): number {
    return this.abortWhere((j) => j.runId === runId && j.coordinator === coordinator, new RunCancelledError(`run ${runId} was cancelled by its coordinator`))
  }

  /** Abort every job of a coordinator that disconnected: its update could not be delivered anyway. */
  coordinatorGone (coordinator: string): number {
    return this.abortWhere((j) => j.coordinator === coordinator, new RunCancelledError(`coordinator ${coordinator} disconnected`))
  }

  private abortWhere (match: (job: Job) => boolean, reason: Error): number {
    let n = 0
    for (const [index, job] of [...this.busy]) {
      if (!match(job)) continue
      job.controller.abort(reason)
      this.busy.delete(index)
      n++
    }
    return n
  }

  private async job (a: AnnounceMessage, coordinator: string, declared: number, head: FeatureBase | undefined, controller: AbortController, sink?: UpdateSink): Promise<void> {
    const timer = setTimeout(() => { controller.abort() }, a.deadlineMs)
    const signal = controller.signal
    try {
      const global = await this.pullOnce(coordinator, a.runId, a.version, signal)
      const config: FederatedTrainConfig = { epochs: a.epochs, batchSize: a.batchSize, learningRate: a.learningRate, proximalMu: a.proximalMu, seed: a.seed }
      const result = await this.train(a.clientIndex, a.baseModelId, global, config, { signal }, head)
      if (sink !== undefined) {
        sink.deliver(result, global, declared)
        return
      }
      const header = {
        runId: a.runId, round: a.round, attempt: a.attempt, version: a.version, clientIndex: a.clientIndex,
        numExamples: Math.min(result.numExamples, declared), loss: result.loss, accuracy: result.accuracy, trainMs: result.trainMs
      }
      await this.init.push(coordinator, header, result.weights, { signal })
      this.info('%s', participantLogLine({
        runId: a.runId, round: a.round, clientIndex: a.clientIndex, numExamples: header.numExamples, loss: result.loss,
        bytesUp: encodedWeightRecordSize(result.weights), bytesDown: encodedWeightRecordSize(global), trainMs: result.trainMs
      }))
    } catch (err: any) {
      sink?.fail(err)
      this.info('run %s round %d client #%d: no update: %s: %s', a.runId, a.round, a.clientIndex, err?.name, err?.message)
    } finally {
      clearTimeout(timer)
    }
  }

  /** Pull once per (coordinator, run, version): the node's virtual clients share it. */
  private async pullOnce (coordinator: string, runId: string, version: number, signal: AbortSignal): Promise<WeightRecord> {
    const key = `${coordinator}/${runId}`
    const cached = this.pulls.get(key)
    if (cached?.version === version) {
      try {
        return await cached.weights
      } catch {
        // the shared pull failed: try again below
      }
    }
    const weights = this.init.pull(coordinator, runId, version, { signal })
    weights.catch(() => {})
    this.pulls.set(key, { version, weights })
    return await weights
  }

  /**
   * Train virtual client `index` from `global` (also used directly by a
   * coordinator for its own clients); a head run trains on the client's
   * features through `head`. Trainings (and feature extraction) queue for the node's slots.
   */
  async train (index: number, baseModelId: string, global: WeightRecord, config: FederatedTrainConfig, options: AbortOptions, head?: FeatureBase): Promise<TrainResult> {
    const client = this.init.clients[index]
    if (client === undefined) throw new NoTrainingDataError(`no virtual client #${index}`)
    const features = this.init.features
    if (head !== undefined && features === undefined) throw new NotStartedError('this node cannot compute features for head runs')
    // The seed comes from the client's own data (its raw shard, also for head runs), never from its id (data-key.ts).
    const seed = clientTrainingSeed(config.seed, this.keys.of(client))
    return this.limiter.run(async () => {
      this.setTraining(+1)
      try {
        const data = byzantineData(this.init.byzantine, head === undefined ? client : await features!.of(`client-${index}`, client, head, options))
        const result = await this.init.runtime.train(baseModelId, global, data, { ...config, seed, yieldEveryBatches: 1, signal: options.signal })
        return { ...result, weights: byzantineUpdate(this.init.byzantine, global, result.weights, deriveSeed(config.seed, index)) }
      } finally {
        this.setTraining(-1)
      }
    }, options)
  }

  private setTraining (delta: number): void {
    this.training += delta
    this.init.localLoad.update({ training: this.training > 0 })
  }

  /** Abort every job. */
  stop (): void {
    for (const job of this.busy.values()) job.controller.abort()
    this.busy.clear()
    this.pulls.clear()
  }
}
