/**
 * Error messages of `/edge-mesh/fedavg/1.0.0` carry the error's fixed name.
 * Only the names listed here are rebuilt as their class on the receiving
 * side; any other name (from a newer peer or a bug) becomes an InternalError
 * that quotes it, so a peer cannot make us throw arbitrary types.
 */
import {
  AbortError, DeadlineExceededError, EdgeMeshError, InternalError, InvalidConfigError, InvalidMessageError,
  InvalidUpdateError, LateUpdateError, MessageTooLargeError, ModelNotFoundError, NoTrainingDataError, NotStartedError,
  LimitExceededError, PeerBusyError, ProtocolError, RoundAbortedError, RunCancelledError, RunNotFoundError, StaleVersionError,
  UntrustedCoordinatorError, UntrustedPeerError
} from '../../../errors.js'
import type { ErrorMessage } from './messages.js'

type ErrorClass = new (message?: string) => EdgeMeshError

const CLASSES: ReadonlyMap<string, ErrorClass> = new Map<string, ErrorClass>([
  AbortError, DeadlineExceededError, InternalError, InvalidConfigError, InvalidMessageError, InvalidUpdateError,
  LateUpdateError, MessageTooLargeError, ModelNotFoundError, NoTrainingDataError, NotStartedError, PeerBusyError,
  ProtocolError, RoundAbortedError, RunNotFoundError, StaleVersionError,
  UntrustedCoordinatorError, UntrustedPeerError, LimitExceededError, RunCancelledError
].map((cls) => [cls.name, cls]))

/**
 * The error message to send for a failure. Unnamed failures (a runtime or
 * file-system error, a bug) are sent as InternalError with a generic message:
 * their text may name local paths or quote file content, which must not leave
 * the node (the handler logs the original locally).
 */
export function errorMessage (err: unknown): ErrorMessage {
  if (!(err instanceof Error) || !CLASSES.has(err.name)) return { type: 'error', name: 'InternalError', message: 'the peer failed to serve the request (details in its log)' }
  return { type: 'error', name: err.name, message: err.message.slice(0, 2048) }
}

/** The named error an error message stands for. */
export function errorFromMessage (m: Pick<ErrorMessage, 'name' | 'message'>): EdgeMeshError {
  const cls = CLASSES.get(m.name)
  if (cls === undefined) return new InternalError(`remote error ${m.name}: ${m.message}`)
  return new cls(m.message)
}
