/**
 * The participant side of a federated run on one node: its virtual clients
 * (one per `--data` spec), answering ANNOUNCE (check, make the base model
 * available, accept), then in the background PULL the global weights, train
 * the client's copy with the model runtime (setting `training` in the local
 * load while it runs and yielding between batches), and PUSH the update.
 * A job ends by the deadline the coordinator gave, whatever happens.
 */
import { InvalidMessageError, NoTrainingDataError, PeerBusyError } from '../../errors.js'
import { ATTACK_NAMES, attackUpdate, flipLabels } from '../simulation/attacks.js'
import { DEFAULT_TRAIN_CONCURRENCY } from './protocol/constants.js'
import { createLimiter } from '../limiter.js'
import { createRng, deriveSeed } from '../rng.js'
import type { AttackName } from '../simulation/attacks.js'
import type { FederatedTrainConfig } from '../grid.js'
import type { AcceptMessage, AnnounceMessage, PushMessage } from './protocol/messages.js'
import type { LocalLoad } from '../../gossip/types.js'
import type { Dataset, ModelRuntime, TrainResult, WeightRecord } from '../../model/types.js'
import type { AbortOptions, Logger } from '@libp2p/interface'

/** Malformed-update behaviours for tests of the coordinator's validation (never useful otherwise). */
export const FAULT_ATTACKS = ['nan', 'wrong-shape'] as const

/** A byzantine behaviour named in an ANNOUNCE. */
export interface AttackSpec {
  name: AttackName | typeof FAULT_ATTACKS[number]
  scale?: number
  noiseStd?: number
}

/** Check an attack name received from a coordinator. */
export function parseAttackSpec (name: string, scale?: number, noiseStd?: number): AttackSpec {
  if (!([...ATTACK_NAMES, ...FAULT_ATTACKS] as readonly string[]).includes(name)) throw new InvalidMessageError(`unknown attack "${name}"`)
  return { name: name as AttackSpec['name'], scale, noiseStd }
}

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
  /** Trainings at once. @default 1 */
  concurrency?: number
  log: Logger
}

/** Apply a byzantine behaviour (or a test fault) to an honest result. */
function applyAttack (attack: AttackSpec | undefined, global: WeightRecord, trained: WeightRecord, seed: number): WeightRecord {
  if (attack === undefined || attack.name === 'labelflip') return trained
  if (attack.name === 'nan') return trained.map((t, i) => (i === 0 ? { ...t, data: Float32Array.from(t.data, (v, j) => (j === 0 ? Number.NaN : v)) } : t))
  if (attack.name === 'wrong-shape') return [{ name: trained[0].name, shape: [1], dtype: 'float32', data: new Float32Array(1) }, ...trained.slice(1)]
  return attackUpdate(attack.name, global, trained, createRng(seed), { scale: attack.scale, noiseStd: attack.noiseStd })
}

export class Participant {
  /** The job of each busy client; a newer request of the same run replaces it (its update would be late). */
  private readonly busy = new Map<number, { runId: string, controller: AbortController }>()
  private readonly limiter
  private readonly pulls = new Map<string, { version: number, weights: Promise<WeightRecord> }>()
  private training = 0

  constructor (private readonly init: ParticipantInit) {
    this.limiter = createLimiter(init.concurrency ?? DEFAULT_TRAIN_CONCURRENCY)
  }

  /** Examples of each virtual client (the HELLO answer). */
  counts (): number[] {
    return this.init.clients.map((c) => c.count)
  }

  /** True while any client trains. */
  isTraining (): boolean {
    return this.training > 0
  }

  /** Answer an ANNOUNCE: refuse, or make the base model available, accept and start the job. */
  async accept (a: AnnounceMessage, coordinator: string, options: AbortOptions): Promise<AcceptMessage> {
    const clients = this.init.clients
    if (clients.length === 0) throw new NoTrainingDataError('this node holds no training data (start it with --data)')
    const data = clients[a.clientIndex]
    if (data === undefined) throw new NoTrainingDataError(`no virtual client #${a.clientIndex}: this node has ${clients.length}`)
    const current = this.busy.get(a.clientIndex)
    if (current !== undefined && current.runId !== a.runId) throw new PeerBusyError(`client #${a.clientIndex} is training for run ${current.runId}`)
    const attack = a.attack === undefined ? undefined : parseAttackSpec(a.attack, a.attackScale, a.attackNoiseStd)
    current?.controller.abort()
    const job = { runId: a.runId, controller: new AbortController() }
    this.busy.set(a.clientIndex, job)
    const release = (): void => { if (this.busy.get(a.clientIndex) === job) this.busy.delete(a.clientIndex) }
    try {
      await this.init.ensureModel(a.baseModelId, coordinator, options)
    } catch (err) {
      release()
      throw err
    }
    void this.job(a, coordinator, attack, job.controller).finally(release)
    return { type: 'accept', numExamples: data.count }
  }

  private async job (a: AnnounceMessage, coordinator: string, attack: AttackSpec | undefined, controller: AbortController): Promise<void> {
    const timer = setTimeout(() => { controller.abort() }, a.deadlineMs)
    const signal = controller.signal
    try {
      const global = await this.pullOnce(coordinator, a.runId, a.version, signal)
      const config: FederatedTrainConfig = { epochs: a.epochs, batchSize: a.batchSize, learningRate: a.learningRate, proximalMu: a.proximalMu, seed: a.seed }
      const result = await this.train(a.clientIndex, a.baseModelId, global, config, attack, { signal })
      const header = {
        runId: a.runId, round: a.round, attempt: a.attempt, version: a.version, clientIndex: a.clientIndex,
        numExamples: result.numExamples, loss: result.loss, accuracy: result.accuracy, trainMs: result.trainMs
      }
      await this.init.push(coordinator, header, result.weights, { signal })
      this.init.log('client #%d pushed round %d of %s', a.clientIndex, a.round, a.runId)
    } catch (err: any) {
      this.init.log('client #%d round %d of %s failed: %s: %s', a.clientIndex, a.round, a.runId, err?.name, err?.message)
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
   * coordinator for its own clients). Trainings queue for the node's slots.
   */
  async train (index: number, baseModelId: string, global: WeightRecord, config: FederatedTrainConfig, attack: AttackSpec | undefined, options: AbortOptions): Promise<TrainResult> {
    const client = this.init.clients[index]
    if (client === undefined) throw new NoTrainingDataError(`no virtual client #${index}`)
    const data = attack?.name === 'labelflip' ? flipLabels(client) : client
    return this.limiter.run(async () => {
      this.setTraining(+1)
      try {
        const result = await this.init.runtime.train(baseModelId, global, data, { ...config, yieldEveryBatches: 1, signal: options.signal })
        return { ...result, weights: applyAttack(attack, global, result.weights, deriveSeed(config.seed, index)) }
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
