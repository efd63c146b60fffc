/**
 * The error codes of `/edge-mesh/infer/1.0.0` and `/edge-mesh/model/1.0.0`
 * error frames. Each code stands for exactly one named error class of
 * `src/errors.ts`, so a failure on the serving peer is rethrown on the caller
 * as the same class. The table is part of the wire format (docs/protocols.md).
 */
import {
  DeadlineExceededError, EdgeMeshError, InternalError, InvalidMessageError, InvalidModelError,
  InvalidTensorError, MessageTooLargeError, ModelNotFoundError, NotStartedError, PeerBusyError,
  ProtocolError
} from '../errors.js'

type ErrorClass = new (message?: string) => EdgeMeshError

/** Wire error codes (u16). */
export const ErrorCode = {
  Internal: 1,
  InvalidMessage: 2,
  MessageTooLarge: 3,
  Protocol: 4,
  ModelNotFound: 5,
  InvalidTensor: 6,
  PeerBusy: 7,
  DeadlineExceeded: 8,
  NotStarted: 9,
  InvalidModel: 10
} as const

export type ErrorCodeValue = typeof ErrorCode[keyof typeof ErrorCode]

const CLASSES: ReadonlyMap<number, ErrorClass> = new Map<number, ErrorClass>([
  [ErrorCode.Internal, InternalError],
  [ErrorCode.InvalidMessage, InvalidMessageError],
  [ErrorCode.MessageTooLarge, MessageTooLargeError],
  [ErrorCode.Protocol, ProtocolError],
  [ErrorCode.ModelNotFound, ModelNotFoundError],
  [ErrorCode.InvalidTensor, InvalidTensorError],
  [ErrorCode.PeerBusy, PeerBusyError],
  [ErrorCode.DeadlineExceeded, DeadlineExceededError],
  [ErrorCode.NotStarted, NotStartedError],
  [ErrorCode.InvalidModel, InvalidModelError]
])

const CODES: ReadonlyMap<string, number> = new Map(
  [...CLASSES].map(([code, cls]) => [cls.name, code])
)

/** The wire code of an error, by its fixed name; anything unnamed is `Internal`. */
export function errorToCode (err: unknown): number {
  const name = err instanceof Error ? err.name : ''
  return CODES.get(name) ?? ErrorCode.Internal
}

/**
 * The named error a wire code stands for. An unknown code (from a newer peer)
 * becomes an InternalError that quotes it, so old callers still fail cleanly.
 */
export function errorFromCode (code: number, message: string): EdgeMeshError {
  const cls = CLASSES.get(code)
  if (cls == null) return new InternalError(`remote error code ${code}: ${message}`)
  return new cls(message)
}
