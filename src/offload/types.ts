/**
 * Types shared by the parts of the offload capability: the wire protocol
 * (client and server), the scheduler and the public `infer` API.
 */
import type { SpotCheckCounts } from './spot-check.js'
import type { TensorData } from '../model/types.js'
import type { AbortOptions } from '@libp2p/interface'

/** Where a caller wants its request run. `auto` lets the scheduler decide. */
export type Preference = 'auto' | 'local' | 'remote'

export interface InferOptions extends AbortOptions {
  /** Time budget of the whole request, ms, retries included. @default 5000 */
  deadlineMs?: number
  /** @default 'auto' */
  prefer?: Preference
  /** Peers not to ask (a spot check asks a second peer). @default [] */
  exclude?: string[]
}

/** Where the time of one request went, ms. */
export interface LatencyBreakdown {
  /** Request arrival to answer, as seen by the caller. */
  totalMs: number
  /** Time spent queued on the serving node (reported by it). */
  queueMs: number
  /** Model execution time on the serving node (reported by it). */
  computeMs: number
  /** totalMs minus the server's queue and compute time: network, encoding, scheduling, retries. */
  overheadMs: number
}

/** One attempt of a request at one candidate. */
export interface AttemptRecord {
  peerId: string
  /** `ok`, or the error name (`PeerBusyError`, `DeadlineExceededError`, ...). */
  outcome: string
  ms: number
  hedge?: boolean
}

/** The answer to an inference request. */
export interface InferResult {
  outputs: TensorData[]
  /** Peer id of the node that computed the outputs (may be this node). */
  servedBy: string
  /** Number of attempts made, hedges included. */
  attempts: number
  attemptLog: AttemptRecord[]
  latencyMs: LatencyBreakdown
  /**
   * Set when the answer was spot-checked: `match`, `mismatch` (the peer lied; `outputs`
   * are this node's own and the peer is banned) or `failed` (no reference in time).
   */
  spotCheck?: 'match' | 'mismatch' | 'failed'
}

/** A serving node's load when it answered: requests admitted and not yet answered, and execution slots. */
export interface ServerLoad {
  outstanding: number
  capacity: number
}

/** What a serving node reports back next to the outputs. */
export interface ServedResult {
  outputs: TensorData[]
  queueMs: number
  computeMs: number
  /** Number of requests in the micro-batch this one ran in. */
  batchSize: number
  /** The server's load at the time of the reply (`/edge-mesh/infer/1.1.0` answers only). */
  serverLoad?: ServerLoad
}

/**
 * Runs one request on one remote peer over `/edge-mesh/infer/1.1.0` (or 1.0.0 for older peers).
 * Rejects with the named error the peer answered (`PeerBusyError`, `ModelNotFoundError`, ...)
 * or with a transport failure.
 */
export interface RemoteInvoker {
  (peerId: string, modelId: string, inputs: TensorData[], options: AbortOptions & { deadlineMs: number }): Promise<ServedResult>
}

/** Runs one request on this node, through the same queue and batcher as remote requests. */
export interface LocalInvoker {
  (modelId: string, inputs: TensorData[], options: AbortOptions & { deadlineMs: number }): Promise<ServedResult>
}

/** An inference request of this node that ended with outputs. */
export interface InferenceCompleted extends InferResult {
  modelId: string
}

/** An inference request of this node that ended with an error. */
export interface InferenceFailed {
  modelId: string
  error: Error
}

/** Events of the offload service, about the requests this node makes (`infer`). */
export interface OffloadEvents {
  'inference:completed': CustomEvent<InferenceCompleted>
  'inference:failed': CustomEvent<InferenceFailed>
}

/** Public interface of the offload service. */
export interface Offload {
  infer(modelId: string, inputs: TensorData[], options?: InferOptions): Promise<InferResult>
  /** Counters for status, metrics and the dashboard. */
  stats(): OffloadStats
  /** Most rows one micro-batch of `modelId` takes on this node now (see the engine's `batchRows`). */
  batchRows?(modelId: string): number
}

export interface OffloadStats {
  /** Requests this node answered for itself. */
  servedLocally: number
  /** Requests this node sent elsewhere and got answered. */
  servedRemotely: number
  /** Requests this node served on behalf of peers. */
  servedForPeers: number
  /** Requests that ended in an error. */
  failed: number
  /** Per peer: how many of this node's requests it served. */
  byPeer: Record<string, number>
  /** Latency percentiles over the last minute, ms. */
  p50Ms: number
  p99Ms: number
  queueDepth: number
  inFlight: number
  capacity: number
  /** What spot checks of remote results found (see docs/security.md "Inference"). */
  spotChecks?: SpotCheckCounts
  /** What the inbound infer handlers (1.0.0 and 1.1.0) refused or dropped. */
  inbound?: InboundInferCounts
}

/** Refusals and drops of the inbound infer handlers, both protocols together. */
export interface InboundInferCounts {
  /** Requests answered with an error frame (busy, unknown model, malformed, ...). */
  errorReplies: number
  /** Frames whose bytes did not decode (or whose sender was over its byte budget). */
  malformed: number
  /** Peers reported (and banned) for too many malformed frames. */
  abusers: number
  /** 1.1.0 requests cancelled by their caller while in flight. */
  cancelled: number
  /** Streams aborted (timeout, reset, broken framing, write failure). */
  aborted: number
}
