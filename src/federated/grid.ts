/**
 * The Grid: how a federated coordinator reaches its clients, without knowing
 * whether they are virtual clients in this process (`memory-grid.ts`) or mesh
 * peers behind `/edge-mesh/fedavg/1.0.0`. Flower's idea: the training loop
 * never touches the network, it talks to a Grid.
 */
import type { AbortOptions } from '@libp2p/interface'
import type { TrainConfig, WeightRecord } from '../model/types.js'

/** What the coordinator knows about a client's current work, when the grid can tell. */
export type ClientLoad = 'idle' | 'training' | 'busy'

/** A client the grid can reach. */
export interface ClientInfo {
  /** Stable id: a virtual client's name or a peer id. */
  id: string
  /** Local examples the client holds, when known. */
  numExamples?: number
  /** Load hint; selection prefers `idle` clients. Undefined means unknown. */
  load?: ClientLoad
  /**
   * The key of the client's data (`datasetKey`), when the grid knows it:
   * sampling orders clients by it, so the same shards are picked whatever
   * the clients' ids (new peer ids on every mesh run).
   */
  dataKey?: number
}

/**
 * The local training settings a strategy sends with an instruction. `seed` is
 * the round's seed: a grid trains each client with
 * `clientTrainingSeed(seed, datasetKey(its data))` (data-key.ts).
 */
export type FederatedTrainConfig = Required<Pick<TrainConfig, 'epochs' | 'batchSize' | 'learningRate' | 'proximalMu' | 'seed'>>

/** One training request sent to one client. */
export interface TrainRequest {
  /** Round number, from 1. */
  round: number
  /** How many aggregations produced `weights` (0 = the initial model). */
  modelVersion: number
  /** Content id of a model with the run's architecture (clients train copies of it). */
  baseModelId: string
  /** The current global weights to start from. */
  weights: WeightRecord
  config: FederatedTrainConfig
}

/** Metrics a client reports about its local training. */
export interface ClientMetrics {
  loss: number
  accuracy: number
  trainMs: number
}

/** A client's answer: its locally trained weights and how many examples produced them. */
export interface ClientUpdate {
  clientId: string
  weights: WeightRecord
  numExamples: number
  metrics: ClientMetrics
  /** Bytes the transport moved for this request (down, up), when it knows; else estimated from the codec. */
  bytes?: { down: number, up: number }
}

/** How the coordinator reaches clients. */
export interface Grid {
  /** The clients reachable now. */
  clients(): ClientInfo[]
  /** Ask one client to train; rejects on failure and when `signal` aborts. */
  train(clientId: string, request: TrainRequest, options: AbortOptions): Promise<ClientUpdate>
}
