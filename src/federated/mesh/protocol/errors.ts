/**
 * Error messages of `/edge-mesh/fedavg/1.0.0` carry the error's fixed name.
 * Only the names listed here are rebuilt as their class on the receiving
 * side; any other name (from a newer peer or a bug) becomes an InternalError
 * that quotes it, so a peer cannot make us throw arbitrary types.
 */
import {
  AbortError, DeadlineExceededError, EdgeMeshError, InternalError, InvalidConfigError, InvalidMessageError,
  InvalidUpdateError, LateUpdateError, MessageTooLargeError, ModelNotFoundError, NoTrainingDataError, NotStartedError,
  PeerBusyError, ProtocolError, RoundAbortedError, RunNotFoundError, StaleVersionError
} from '../../../errors.js'
import type { ErrorMessage } from './messages.js'

type ErrorClass = new (message?: string) => EdgeMeshError

const CLASSES: ReadonlyMap<string, ErrorClass> = new Map<string, ErrorClass>([
  AbortError, DeadlineExceededError, InternalError, InvalidConfigError, InvalidMessageError, InvalidUpdateError,
  LateUpdateError, MessageTooLargeError, ModelNotFoundError, NoTrainingDataError, NotStartedError, PeerBusyError,
  ProtocolError, RoundAbortedError, RunNotFoundError, StaleVersionError
].map((cls) => [cls.name, cls]))

/** The error message to send for a failure (unnamed failures are sent as InternalError). */
export function errorMessage (err: unknown): ErrorMessage {
  const name = err instanceof Error && CLASSES.has(err.name) ? err.name : 'InternalError'
  const message = err instanceof Error ? err.message : String(err)
  return { type: 'error', name, message: message.slice(0, 2048) }
}

/** The named error an error message stands for. */
export function errorFromMessage (m: Pick<ErrorMessage, 'name' | 'message'>): EdgeMeshError {
  const cls = CLASSES.get(m.name)
  if (cls === undefined) return new InternalError(`remote error ${m.name}: ${m.message}`)
  return new cls(m.message)
}
