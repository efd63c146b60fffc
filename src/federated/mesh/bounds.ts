/**
 * Bounds on every federated request a peer (or a user) can make, as pure
 * checks: each returns the violated bound, or undefined. The service turns a
 * violation into a LimitExceededError on the wire and counts it in /metrics
 * under `edge_mesh_federated_refusals_total{reason=<bound>}`.
 */
import {
  DEFAULT_MAX_COORDINATED_RUNS, DEFAULT_MAX_DEADLINE_MS, DEFAULT_MAX_EPOCHS, DEFAULT_MAX_EXAMPLES,
  DEFAULT_MAX_FEATURE_EXAMPLES, DEFAULT_MAX_PARTICIPATING_RUNS, DEFAULT_MAX_ROUNDS
} from '../constants.js'
import { DEFAULT_MAX_RECORD_BYTES } from './protocol/constants.js'

/** The node's federated bounds; every field has a default in `constants.ts`. */
export interface FederatedBounds {
  /** Local epochs per ANNOUNCE or run spec. @default 50 */
  maxEpochs: number
  /** Rounds per run. @default 1000 */
  maxRounds: number
  /** Job deadline of an ANNOUNCE and round deadline of a run spec, ms. @default 600000 */
  maxDeadlineMs: number
  /** Runs coordinated at once. @default 4 */
  maxCoordinatedRuns: number
  /** Distinct runs trained for at once as a participant. @default 2 */
  maxParticipatingRuns: number
  /** Largest `numExamples` accepted in ACCEPT (and so in PUSH). @default 1000000 */
  maxExamples: number
  /** Largest weight record accepted, bytes. @default 48 MiB */
  maxWeightBytes: number
  /** Most examples per client whose features a head run may ask a participant (or its coordinator) to compute. @default 1024 */
  maxFeatureExamples: number
}

/** Fill the defaults. */
export function resolveBounds (partial: Partial<FederatedBounds> = {}): FederatedBounds {
  return {
    maxEpochs: partial.maxEpochs ?? DEFAULT_MAX_EPOCHS,
    maxRounds: partial.maxRounds ?? DEFAULT_MAX_ROUNDS,
    maxDeadlineMs: partial.maxDeadlineMs ?? DEFAULT_MAX_DEADLINE_MS,
    maxCoordinatedRuns: partial.maxCoordinatedRuns ?? DEFAULT_MAX_COORDINATED_RUNS,
    maxParticipatingRuns: partial.maxParticipatingRuns ?? DEFAULT_MAX_PARTICIPATING_RUNS,
    maxExamples: partial.maxExamples ?? DEFAULT_MAX_EXAMPLES,
    maxWeightBytes: partial.maxWeightBytes ?? DEFAULT_MAX_RECORD_BYTES,
    maxFeatureExamples: partial.maxFeatureExamples ?? DEFAULT_MAX_FEATURE_EXAMPLES
  }
}

/** A violated bound: `bound` is the metrics label, `message` says what was asked and allowed. */
export interface Violation {
  bound: 'epochs' | 'rounds' | 'deadline' | 'coordinated_runs' | 'participating_runs' | 'examples' | 'feature_examples'
  message: string
}

function over (bound: Violation['bound'], what: string, asked: number, max: number): Violation | undefined {
  return asked > max ? { bound, message: `${what} ${asked} exceeds this node's limit of ${max}` } : undefined
}

/** An ANNOUNCE as the participant checks it. */
export function checkAnnounce (bounds: FederatedBounds, a: { epochs: number, deadlineMs: number, featureExamples?: number }): Violation | undefined {
  return over('epochs', 'epochs', a.epochs, bounds.maxEpochs) ?? over('deadline', 'deadlineMs', a.deadlineMs, bounds.maxDeadlineMs) ??
    over('feature_examples', 'featureExamples', a.featureExamples ?? 0, bounds.maxFeatureExamples)
}

/** A run spec as the coordinator checks it (fields left out take defaults within the bounds). */
export function checkRunSpec (bounds: FederatedBounds, spec: { rounds: number, epochs?: number, roundDeadlineMs?: number, head?: { examples?: number, evalExamples?: number } }): Violation | undefined {
  return over('rounds', 'rounds', spec.rounds, bounds.maxRounds) ??
    over('epochs', 'epochs', spec.epochs ?? 0, bounds.maxEpochs) ??
    over('deadline', 'roundDeadlineMs', spec.roundDeadlineMs ?? 0, bounds.maxDeadlineMs) ??
    over('feature_examples', 'head.examples', spec.head?.examples ?? 0, bounds.maxFeatureExamples) ??
    over('feature_examples', 'head.evalExamples', spec.head?.evalExamples ?? 0, bounds.maxFeatureExamples)
}

/** One more run coordinated while `running` already are. */
export function checkCoordinatedRuns (bounds: FederatedBounds, running: number): Violation | undefined {
  return running >= bounds.maxCoordinatedRuns ? { bound: 'coordinated_runs', message: `this node already coordinates ${running} runs (limit ${bounds.maxCoordinatedRuns})` } : undefined
}

/** A job of `runId` while the participant trains for `active` runs. */
export function checkParticipatingRuns (bounds: FederatedBounds, active: ReadonlySet<string>, runId: string): Violation | undefined {
  if (active.has(runId) || active.size < bounds.maxParticipatingRuns) return undefined
  return { bound: 'participating_runs', message: `this node already trains for ${active.size} runs (limit ${bounds.maxParticipatingRuns})` }
}

/**
 * The examples a PUSH may claim: at most what the client declared in ACCEPT
 * (which was itself capped), so one participant cannot outweigh the rest in
 * FedAvg by claiming more data than it said it holds.
 */
export function checkPushedExamples (declared: number | undefined, pushed: number, maxExamples: number): Violation | undefined {
  const limit = Math.min(declared ?? maxExamples, maxExamples)
  return pushed > limit ? { bound: 'examples', message: `update claims ${pushed} examples, more than the ${limit} declared` } : undefined
}
