/**
 * The Strategy: Flower-style verb pair deciding who trains with which
 * settings (`configureRound`) and how results become the next global model
 * (`aggregate`). Failures are passed to `aggregate` explicitly.
 */
import { InvalidConfigError } from '../errors.js'
import {
  DEFAULT_BATCH_SIZE, DEFAULT_EPOCHS, DEFAULT_LEARNING_RATE, DEFAULT_PROXIMAL_MU
} from './constants.js'
import { deriveSeed } from './rng.js'
import type { LayerData } from './strategies/aggregate.js'
import type { RoundPrivacy } from './run-types.js'
import type { ClientInfo, ClientUpdate, FederatedTrainConfig } from './grid.js'
import type { Rng } from './rng.js'
import type { DType, WeightRecord } from '../model/types.js'
import type { Logger } from '@libp2p/interface'

/** What a strategy sees when it configures or aggregates a round. */
export interface RoundContext {
  /** Round number, from 1. */
  round: number
  /** Attempt of this round, from 1 (a retry after too few updates increments it). */
  attempt: number
  /** The current global weights. */
  global: WeightRecord
  /** Clients the grid can reach now. */
  clients: ClientInfo[]
  /** How many clients to ask: `max(minParticipants, ceil(C * K))`, capped at K. */
  sampleSize: number
  /** The run's seeded RNG: use it for every random choice. */
  rng: Rng
  /** The run's seed, for deriving per-client training seeds. */
  seed: number
  /** The run's logger, for strategies that report what they discarded. */
  log?: Logger
}

/** Ask one client to train with these settings. */
export interface Instruction {
  clientId: string
  config: FederatedTrainConfig
}

/** A client that was asked but produced no usable update. */
export interface ClientFailure {
  clientId: string
  /** Why: the error name and message, e.g. `InvalidUpdateError: layer "dense/kernel" ...`. */
  reason: string
}

/** What a strategy that spends a differential-privacy budget tells the run loop (see privacy/dp-strategy.ts). */
export interface PrivacyLedger {
  /** The privacy spent after the last aggregated round, undefined before the first. */
  last(): RoundPrivacy | undefined
  /** True when one more round with this sampling rate would take ε past the run's target. */
  exhausted(sampleRate: number): boolean
  /** Account again the rounds restored from a checkpoint. */
  restore(records: ReadonlyArray<{ privacy?: RoundPrivacy }>): void
}

/** Decides who trains and how results are combined. */
export interface Strategy {
  /** Short name, e.g. `fedavg`. */
  readonly name: string
  /** Choose the clients of a round and their training settings. */
  configureRound(ctx: RoundContext): Instruction[]
  /** Combine validated updates into the next global weights. `results` is never empty. */
  aggregate(ctx: RoundContext, results: ClientUpdate[], failures: ClientFailure[]): WeightRecord | Promise<WeightRecord>
  /** Present when the strategy adds noise for differential privacy. */
  readonly privacy?: PrivacyLedger
}

/** Local training options shared by every strategy (FedProx is `proximalMu > 0`). */
export interface LocalTrainOptions {
  /** Local epochs E. @default 1 */
  epochs?: number
  /** Local batch size B, `0` = the whole local data set. @default 10 */
  batchSize?: number
  /** Learning rate. @default 0.05 */
  learningRate?: number
  /** FedProx proximal term mu. @default 0 */
  proximalMu?: number
}

/** Fill and check local training options. */
export function resolveTrainOptions (options: LocalTrainOptions = {}): Omit<FederatedTrainConfig, 'seed'> {
  const epochs = options.epochs ?? DEFAULT_EPOCHS
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE
  const learningRate = options.learningRate ?? DEFAULT_LEARNING_RATE
  const proximalMu = options.proximalMu ?? DEFAULT_PROXIMAL_MU
  if (!Number.isInteger(epochs) || epochs < 1) throw new InvalidConfigError(`epochs must be an integer >= 1, got ${epochs}`)
  if (!Number.isInteger(batchSize) || batchSize < 0) throw new InvalidConfigError(`batch size must be an integer >= 0, got ${batchSize}`)
  if (!(learningRate > 0 && Number.isFinite(learningRate))) throw new InvalidConfigError(`learning rate must be > 0, got ${learningRate}`)
  if (!(proximalMu >= 0 && Number.isFinite(proximalMu))) throw new InvalidConfigError(`proximal mu must be >= 0, got ${proximalMu}`)
  return { epochs, batchSize, learningRate, proximalMu }
}

/**
 * Clients in an order that does not depend on their ids when the grid knows
 * their data keys: by key (then id, for equal data), so a seeded shuffle picks
 * the same shards on a mesh with new peer ids and in simulation.
 */
function byData (clients: readonly ClientInfo[]): ClientInfo[] {
  if (!clients.every((c) => c.dataKey !== undefined)) return [...clients]
  return [...clients].sort((a, b) => (a.dataKey! - b.dataKey!) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/**
 * Sample `ctx.sampleSize` clients with the run's RNG, idle clients first:
 * clients whose load hint is `idle` or unknown are shuffled and taken before
 * busy ones, which are only used to reach the sample size. Clients are
 * ordered by their data keys first (`byData`).
 */
export function sampleClients (ctx: RoundContext): ClientInfo[] {
  const clients = byData(ctx.clients)
  const free = clients.filter((c) => c.load === undefined || c.load === 'idle')
  const busy = clients.filter((c) => !(c.load === undefined || c.load === 'idle'))
  const order = [...ctx.rng.shuffle(free), ...ctx.rng.shuffle(busy)]
  return order.slice(0, Math.min(ctx.sampleSize, order.length))
}

/**
 * The common `configureRound`: sample clients and give each the same settings
 * and the round's seed. The grid mixes each client's data into it
 * (`clientTrainingSeed` in data-key.ts), so no seed depends on a client's id
 * or its place in the sample (issue #13: reproducible mesh runs).
 */
export function configureSampled (ctx: RoundContext, train: Omit<FederatedTrainConfig, 'seed'>): Instruction[] {
  const seed = deriveSeed(ctx.seed, ctx.round, ctx.attempt)
  return sampleClients(ctx).map((client) => ({ clientId: client.id, config: { ...train, seed } }))
}

/**
 * Build the next global record by running `combine` on each layer across the
 * given updates. Layers follow the global model's order; updates are matched by name.
 */
export function combineLayers (global: WeightRecord, updates: readonly WeightRecord[], combine: (layers: LayerData[]) => Float32Array): WeightRecord {
  const indexed = updates.map((u) => new Map(u.map((t) => [t.name, t])))
  return global.map((g) => {
    const layers = indexed.map((m) => {
      const t = m.get(g.name)
      if (t === undefined) throw new InvalidConfigError(`layer "${g.name}" missing from an update (validate updates first)`)
      return t.data
    })
    return { name: g.name, shape: [...g.shape], dtype: g.dtype, data: castLayer(combine(layers), g.dtype) }
  })
}

/** `data` in the layer's dtype (int32 layers are rounded). */
export function castLayer (data: Float32Array, dtype: DType): Float32Array | Int32Array {
  if (dtype === 'float32') return data
  const out = new Int32Array(data.length)
  for (let i = 0; i < data.length; i++) out[i] = Math.round(data[i])
  return out
}
