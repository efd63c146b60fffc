/**
 * One request of the offload client (`client.ts`) as data, and what is built
 * from it alone: the request record, the attempt's work on the chosen node
 * (the transport: the remote invoker for a peer, the engine here), the result
 * of a success, and the errors that end a request. The attempt loop, the
 * scheduler state and the counters stay in `OffloadClient`.
 */
import { AllPeersFailedError, DeadlineExceededError, ModelNotFoundError } from '../errors.js'
import { likelyByteWidth } from './tensor-wire.js'
import type { Attempt, AttemptOutcome } from './attempt.js'
import type { ClientInit } from './client-config.js'
import type { Candidate, Choice } from './scheduler.js'
import type { AttemptRecord, InferOptions, InferResult, Preference, ServedResult } from './types.js'
import type { TensorData } from '../model/types.js'

export interface ClientRequest {
  modelId: string
  inputs: TensorData[]
  prefer: Preference
  startedAt: number
  deadlineAt: number
  signal: AbortSignal
  tried: Set<string>
  /** Peers never asked for this request. */
  excluded: ReadonlySet<string>
  errors: Error[]
  log: AttemptRecord[]
  hedged: boolean
  /** Peers the first attempt chooses among (with this node): the pair the caller probed. */
  among?: ReadonlySet<string>
  /** Counts the loop's wake-ups: candidates computed in one turn are reused in that turn (nothing they read changes within it). */
  turn: number
  /** The candidates computed in turn `turn` (see `OffloadClient.candidates`). */
  cached?: { turn: number, list: Candidate[] }
}

/** What the attempt loop of one request waits for. */
export type LoopEvent = { type: 'settled', attempt: Attempt, outcome: AttemptOutcome } | { type: 'hedge' } | { type: 'wake' } | { type: 'abort' }

/** A latency estimate this many time constants old weighs e^-10 of the prior: it is dropped. */
export const LATENCY_FORGET_TAUS = 10

/** A request outcome that may not be retried elsewhere. */
export function isTerminal (err: Error): boolean {
  return err.name === 'InvalidTensorError'
}

/**
 * Bytes a request will probably take in a peer's budget: a frame header's
 * worth, and its tensors' values at the width they will travel (one byte for
 * an 8-bit image, as int32 or scaled to [0, 1]; see `likelyByteWidth`). An
 * estimate: when it falls short, the stream's byte window (`PipeSession`)
 * holds the frame back rather than have it refused.
 */
export function requestBytes (inputs: TensorData[]): number {
  let bytes = REQUEST_HEADER_ALLOWANCE
  for (const input of inputs) bytes += (input.data?.length ?? 0) * likelyByteWidth(input) + TENSOR_HEADER_ALLOWANCE
  return bytes
}

/** Header bytes of a request frame and of each of its tensors, rounded up (see docs/protocols.md, infer 1.1.0). */
const REQUEST_HEADER_ALLOWANCE = 256
const TENSOR_HEADER_ALLOWANCE = 64

/** A new request started at `startedAt` with `deadlineMs` to run, aborted through `signal`. */
export function newRequest (modelId: string, inputs: TensorData[], options: InferOptions, startedAt: number, deadlineMs: number,
  signal: AbortSignal, among?: ReadonlySet<string>): ClientRequest {
  return {
    modelId, inputs, prefer: options.prefer ?? 'auto', startedAt, deadlineAt: startedAt + deadlineMs,
    signal, tried: new Set(), excluded: new Set(options.exclude ?? []), errors: [], log: [], hedged: false, among, turn: 0
  }
}

/**
 * The work of one attempt on the chosen node: the remote invoker for a peer,
 * the engine here (after fetching the model when this node lacks it).
 * `remaining()` is the request's time left in whole milliseconds.
 */
export function attemptWork (init: Pick<ClientInit, 'local' | 'remote' | 'fetchLocal'>, req: ClientRequest, choice: Choice,
  remaining: () => number): (signal: AbortSignal) => Promise<ServedResult> {
  const { peerId, local, hasModel } = choice.candidate
  return async (signal) => {
    if (!local) return await init.remote(peerId, req.modelId, req.inputs, { signal, deadlineMs: remaining() })
    if (!hasModel) {
      if (init.fetchLocal == null) throw new ModelNotFoundError(`model ${req.modelId} is not loaded here`)
      await init.fetchLocal(req.modelId, { signal })
    }
    return await init.local(req.modelId, req.inputs, { signal, deadlineMs: remaining() })
  }
}

/** The caller's result of a request `peerId` answered, `totalMs` after it started. */
export function inferResult (req: ClientRequest, peerId: string, result: ServedResult, totalMs: number): InferResult {
  return {
    outputs: result.outputs,
    servedBy: peerId,
    attempts: req.log.length,
    attemptLog: req.log,
    latencyMs: { totalMs, queueMs: result.queueMs, computeMs: result.computeMs, overheadMs: Math.max(0, totalMs - result.queueMs - result.computeMs) }
  }
}

/** Every attempt failed (or none could start): the error holds each attempt's error and the log. */
export function allFailedError (req: ClientRequest, why: string): AllPeersFailedError {
  return new AllPeersFailedError([...req.errors], `${why}: ${req.errors.length} attempts at ${req.modelId} failed`, { attempts: [...req.log] })
}

/** The request's deadline passed: the error lists the attempts made (the live log, so late entries are filled in). */
export function deadlineExceededError (req: ClientRequest): DeadlineExceededError {
  const ms = Math.round(req.deadlineAt - req.startedAt)
  return new DeadlineExceededError(`no answer within ${ms} ms (${req.log.length} attempts)`, { attempts: req.log })
}
