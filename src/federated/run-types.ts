/**
 * Types of `runFederated`: its options, the per-round record and the result.
 */
import type { CheckpointStore } from './checkpoint.js'
import type { AttemptInput, AttemptOutcome } from './collect.js'
import type { SamplingPlan } from './sampling.js'
import type { Grid } from './grid.js'
import type { ClientFailure, Strategy } from './strategy.js'
import type { AbortOptions, Logger } from '@libp2p/interface'
import type { ModelRuntime, WeightRecord } from '../model/types.js'

/** Differential privacy spent by a run up to and including one round. */
export interface RoundPrivacy {
  epsilon: number
  delta: number
  /** Sampling rate q = m/K this round was accounted with. */
  sampleRate: number
  noiseMultiplier: number
}

/** What happened in one completed round. */
export interface RoundRecord {
  round: number
  /** Held-out accuracy of the new global model. */
  accuracy: number
  /** Held-out loss of the new global model. */
  loss: number
  /** Updates aggregated. */
  participants: number
  /** Client ids of the aggregated updates (`<peerId>#<index>` on the mesh). */
  participantIds: string[]
  /** Clients asked (over all attempts) that produced no usable update. */
  failures: number
  failureReasons: ClientFailure[]
  /** Attempts the round needed (1 unless it was retried). */
  attempts: number
  /** Wall time from the first attempt's start to the end of evaluation. */
  wallMs: number
  /** Bytes of updates received from clients. */
  bytesUp: number
  /** Bytes of global weights sent to clients. */
  bytesDown: number
  /** Content id of the new global model. */
  globalModelId: string
  /** Longest local training among the aggregated updates, in ms. */
  slowestTrainMs: number
  /** (ε, δ) spent so far, when the strategy adds DP noise. */
  privacy?: RoundPrivacy
}

/** Held-out evaluation of a global model. */
export type EvaluateFn = (weights: WeightRecord, options: AbortOptions) => Promise<{ loss: number, accuracy: number }>

export interface FederatedRunOptions extends AbortOptions {
  grid: Grid
  strategy: Strategy
  /** Registers each new global model to get its content id. */
  runtime: Pick<ModelRuntime, 'createFromWeights'> & Partial<Pick<ModelRuntime, 'unload'>>
  /** Content id of a loaded model with the run's architecture. */
  baseModelId: string
  /** Global weights before round 1. */
  initialWeights: WeightRecord
  /** Rounds to run (in total, including rounds restored from a checkpoint). */
  rounds: number
  /** Fraction C of clients asked per round. @default 1 with at most 10 clients at the start, else 0.1 (sampling.ts) */
  fraction?: number
  /** Fewest updates a round aggregates. @default every sampled client with fraction 1, else 2 (sampling.ts) */
  minParticipants?: number
  /** Per-attempt deadline. @default 60000 */
  roundDeadlineMs?: number
  /** Retries of a round that got too few updates. @default 2 */
  maxRoundRetries?: number
  /**
   * Most updates a round of a non-streaming (robust) strategy may hold; a larger
   * sample is refused with TooManyParticipantsError. FedAvg and FedSGD aggregate
   * as updates arrive and have no limit. @default 200
   */
  maxBufferedUpdates?: number
  evaluate: EvaluateFn
  /** Saves after every round; a run resumes from its latest checkpoint. */
  checkpoint?: CheckpointStore
  /** Seed of client sampling and training seeds. @default 0 */
  seed?: number
  /** Keep every round's global model loaded in the runtime instead of unloading the previous one. @default false */
  keepModels?: boolean
  /**
   * When set, the initial weights are evaluated before round 1 of a fresh run
   * (round 0 of a curve) and passed here; not called when the run resumes.
   */
  onInitial?(evaluation: { loss: number, accuracy: number }): void
  /** Called once at the start with the resolved sampling and why (print it: the defaults depend on the clients available). */
  onPlan?(plan: SamplingPlan): void
  /** Called after each round this call runs (not for rounds restored from a checkpoint). */
  onRound?(record: RoundRecord): void
  /**
   * How one attempt of a round is run: the default sends the instructions
   * through the grid and collects each update (`collect.ts`); a secure run
   * passes `secureCollect(...)` (`privacy/secagg/workflow.ts`), which returns
   * one securely aggregated update. @default collectAttempt
   */
  collect?(input: AttemptInput): Promise<AttemptOutcome>
  /** The caller's logger (a service passes `components.logger.forComponent(...)`). @default `edge-mesh:federated:run` */
  log?: Logger
}

export interface FederatedRunResult {
  records: RoundRecord[]
  weights: WeightRecord
  globalModelId: string
  /** Rounds restored from a checkpoint (0 for a fresh run). */
  resumedRounds: number
  /** Why the run ended before `rounds`: the next round would have passed the target ε. */
  stopReason?: 'target-epsilon'
}
