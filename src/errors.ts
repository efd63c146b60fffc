/**
 * Every failure edge-mesh reports has its own error class with a fixed `name`.
 * Callers (the CLI, the HTTP API, remote peers) recognise failures by `name`,
 * never by message text. The CLI maps names to exit codes in one place
 * (`src/cli/errors.ts`), the HTTP API maps them to status codes in one place
 * (`src/api/errors.ts`).
 */

/** Base class: every edge-mesh error is an EdgeMeshError with a fixed name. */
export class EdgeMeshError extends Error {
  static override readonly name: string = 'EdgeMeshError'
  override name = 'EdgeMeshError'
}

/** A configuration value, flag, environment variable or config file entry is invalid. */
export class InvalidConfigError extends EdgeMeshError {
  static override readonly name = 'InvalidConfigError'
  override name = 'InvalidConfigError'
}

/** A string that should be a multiaddr is not one. */
export class InvalidMultiaddrError extends EdgeMeshError {
  static override readonly name = 'InvalidMultiaddrError'
  override name = 'InvalidMultiaddrError'
}

/** A TCP port needed by the node (libp2p listener or control API) is already taken. */
export class PortInUseError extends EdgeMeshError {
  static override readonly name = 'PortInUseError'
  override name = 'PortInUseError'
}

/** Bytes received from a peer do not decode to a valid message. */
export class InvalidMessageError extends EdgeMeshError {
  static override readonly name = 'InvalidMessageError'
  override name = 'InvalidMessageError'
}

/** A message or frame is larger than the configured limit. */
export class MessageTooLargeError extends EdgeMeshError {
  static override readonly name = 'MessageTooLargeError'
  override name = 'MessageTooLargeError'
}

/** A peer broke the protocol (unexpected frame, wrong order, stream ended early). */
export class ProtocolError extends EdgeMeshError {
  static override readonly name = 'ProtocolError'
  override name = 'ProtocolError'
}

/** No model with the requested content id is loaded or can be fetched. */
export class ModelNotFoundError extends EdgeMeshError {
  static override readonly name = 'ModelNotFoundError'
  override name = 'ModelNotFoundError'
}

/** A model's bytes do not hash to the content id they were requested by, or its files are malformed. */
export class InvalidModelError extends EdgeMeshError {
  static override readonly name = 'InvalidModelError'
  override name = 'InvalidModelError'
}

/** A tensor has the wrong shape or dtype, or its data length does not match its shape. */
export class InvalidTensorError extends EdgeMeshError {
  static override readonly name = 'InvalidTensorError'
  override name = 'InvalidTensorError'
}

/** A peer's queue is full: it refused the work at once so the caller can go elsewhere. */
export class PeerBusyError extends EdgeMeshError {
  static override readonly name = 'PeerBusyError'
  override name = 'PeerBusyError'
}

/** One attempt of an offload request as the errors and the HTTP error body list it (`AttemptRecord` in src/offload/types.ts). */
export interface AttemptSummary {
  peerId: string
  /** `ok`, `pending`, or the error name. */
  outcome: string
  ms: number
  hedge?: boolean
}

/**
 * The request's deadline passed before it could be answered. `attempts`, when
 * set, lists what the request tried before giving up (the HTTP API's error
 * body carries it, the CLI prints it).
 */
export class DeadlineExceededError extends EdgeMeshError {
  static override readonly name = 'DeadlineExceededError'
  override name = 'DeadlineExceededError'
  readonly attempts?: AttemptSummary[]

  constructor (message?: string, options?: { attempts?: AttemptSummary[] }) {
    super(message)
    if (options?.attempts != null) this.attempts = options.attempts
  }
}

/** The operation was aborted by the caller's signal. */
export class AbortError extends EdgeMeshError {
  static override readonly name = 'AbortError'
  override name = 'AbortError'
}

/** Every candidate peer failed; `errors` holds each attempt's failure, `attempts` (when set) where each ran. */
export class AllPeersFailedError extends AggregateError {
  static override readonly name = 'AllPeersFailedError'
  override name = 'AllPeersFailedError'
  readonly attempts?: AttemptSummary[]

  constructor (errors: Iterable<unknown>, message?: string, options?: { attempts?: AttemptSummary[] }) {
    super(errors, message)
    if (options?.attempts != null) this.attempts = options.attempts
  }
}

/** A federated update does not match the global model (names, shapes, dtypes) or holds non-finite values. */
export class InvalidUpdateError extends EdgeMeshError {
  static override readonly name = 'InvalidUpdateError'
  override name = 'InvalidUpdateError'
}

/** A round would buffer more updates than a non-streaming (robust) aggregation rule is allowed to hold. */
export class TooManyParticipantsError extends EdgeMeshError {
  static override readonly name = 'TooManyParticipantsError'
  override name = 'TooManyParticipantsError'
}

/** A federated update arrived for a round that is already closed. */
export class LateUpdateError extends EdgeMeshError {
  static override readonly name = 'LateUpdateError'
  override name = 'LateUpdateError'
}

/** A federated round could not complete (too few participants, coordinator stopped). */
export class RoundAbortedError extends EdgeMeshError {
  static override readonly name = 'RoundAbortedError'
  override name = 'RoundAbortedError'
}

/** No federated run with the given id exists. */
export class RunNotFoundError extends EdgeMeshError {
  static override readonly name = 'RunNotFoundError'
  override name = 'RunNotFoundError'
}

/** A participant holds no local training data (or no virtual client with the asked index). */
export class NoTrainingDataError extends EdgeMeshError {
  static override readonly name = 'NoTrainingDataError'
  override name = 'NoTrainingDataError'
}

/** A participant was asked to pull or push weights of a model version the coordinator no longer holds. */
export class StaleVersionError extends EdgeMeshError {
  static override readonly name = 'StaleVersionError'
  override name = 'StaleVersionError'
}

/** A federated participant lost its connection while a round waited for it. */
export class PeerDisconnectedError extends EdgeMeshError {
  static override readonly name = 'PeerDisconnectedError'
  override name = 'PeerDisconnectedError'
}

/** The node is not running (not started yet, or already stopped). */
export class NotStartedError extends EdgeMeshError {
  static override readonly name = 'NotStartedError'
  override name = 'NotStartedError'
}

/** The control API of a node could not be reached (CLI client side). */
export class ApiUnreachableError extends EdgeMeshError {
  static override readonly name = 'ApiUnreachableError'
  override name = 'ApiUnreachableError'
}

/** A peer failed to serve a request for a reason it did not name (a runtime failure, a bug). */
export class InternalError extends EdgeMeshError {
  static override readonly name = 'InternalError'
  override name = 'InternalError'
}

/**
 * Loading a model would exceed this node's model memory budget (`--model-memory`,
 * `--max-models`) even after unloading every idle model it may unload.
 */
export class ModelBudgetExceededError extends EdgeMeshError {
  static override readonly name = 'ModelBudgetExceededError'
  override name = 'ModelBudgetExceededError'
}

/** An HTTP request carried an `Origin` header of another site (a web page tried to use the control API). */
export class ForbiddenOriginError extends EdgeMeshError {
  static override readonly name = 'ForbiddenOriginError'
  override name = 'ForbiddenOriginError'
}

/** An HTTP request named a `Host` the control API does not answer to (DNS rebinding). */
export class ForbiddenHostError extends EdgeMeshError {
  static override readonly name = 'ForbiddenHostError'
  override name = 'ForbiddenHostError'
}

/** An HTTP request body is not declared as `application/json`. */
export class UnsupportedMediaTypeError extends EdgeMeshError {
  static override readonly name = 'UnsupportedMediaTypeError'
  override name = 'UnsupportedMediaTypeError'
}

/** An HTTP request lacks the control API's bearer token, or carries a wrong one. */
export class UnauthorizedError extends EdgeMeshError {
  static override readonly name = 'UnauthorizedError'
  override name = 'UnauthorizedError'
}

/** The control API holds as many request-body bytes as it allows at once; retry shortly. */
export class ApiBusyError extends EdgeMeshError {
  static override readonly name = 'ApiBusyError'
  override name = 'ApiBusyError'
}

/** Another running node holds the data directory's lock. */
export class DataDirLockedError extends EdgeMeshError {
  static override readonly name = 'DataDirLockedError'
  override name = 'DataDirLockedError'
}

/** A peer this node does not trust asked it to train (ANNOUNCE, HELLO): see docs/security.md, "Federated runs". */
export class UntrustedCoordinatorError extends EdgeMeshError {
  static override readonly name = 'UntrustedCoordinatorError'
  override name = 'UntrustedCoordinatorError'
}

/** A peer this node does not trust asked it to coordinate or cancel a run (START, CANCEL), or it is not the run's coordinator. */
export class UntrustedPeerError extends EdgeMeshError {
  static override readonly name = 'UntrustedPeerError'
  override name = 'UntrustedPeerError'
}

/** A federated request exceeds one of the node's bounds (epochs, rounds, deadline, concurrent runs, examples). */
export class LimitExceededError extends EdgeMeshError {
  static override readonly name = 'LimitExceededError'
  override name = 'LimitExceededError'
}

/** A federated run was cancelled (by its coordinator's user, mesh-wide). */
export class RunCancelledError extends EdgeMeshError {
  static override readonly name = 'RunCancelledError'
  override name = 'RunCancelledError'
}

/** A run's files on disk (`run.json`, `summary.json`) cannot be read or parsed: the run is listed as failed, not resumed. */
export class RunFileUnreadableError extends EdgeMeshError {
  static override readonly name = 'RunFileUnreadableError'
  override name = 'RunFileUnreadableError'
}

/** True when `err` is an error whose fixed name is `name`. */
export function isErrorNamed (err: unknown, name: string): boolean {
  return err instanceof Error && err.name === name
}

/** A model that cannot be trained or evaluated here (a TF.js graph model: its weights are constants). */
export class ModelNotTrainableError extends EdgeMeshError {
  static override readonly name = 'ModelNotTrainableError'
  override name = 'ModelNotTrainableError'
}

/** A model name that several models in the mesh carry: the caller must pick one by content id (the message lists them). */
export class AmbiguousModelNameError extends EdgeMeshError {
  static override readonly name = 'AmbiguousModelNameError'
  override name = 'AmbiguousModelNameError'
  /** Content ids of the models with that name. */
  candidates: string[] = []
}

/** A secure aggregation round lost too many clients: fewer survivors (or shares of one client) than the threshold, so the sum cannot be unmasked. */
export class SecAggThresholdError extends EdgeMeshError {
  static override readonly name = 'SecAggThresholdError'
  override name = 'SecAggThresholdError'
}
