/**
 * The one place where error names become HTTP status codes. Bodies are always
 * `{ "error": { "name", "message" } }`, plus `attempts` (each `{ peerId, outcome, ms }`)
 * for offload failures that made attempts.
 */
import type { ServerResponse } from 'node:http'

const STATUS_BY_NAME: Record<string, number> = {
  InvalidConfigError: 400,
  InvalidMessageError: 400,
  InvalidTensorError: 400,
  InvalidUpdateError: 400,
  InvalidRequestError: 400,
  InvalidModelError: 422,
  MessageTooLargeError: 413,
  ModelNotFoundError: 404,
  AmbiguousModelNameError: 409,
  RunNotFoundError: 404,
  RouteNotFoundError: 404,
  MethodNotAllowedError: 405,
  PeerBusyError: 503,
  ModelBudgetExceededError: 507,
  AllPeersFailedError: 502,
  RoundAbortedError: 409,
  UntrustedCoordinatorError: 403,
  UntrustedPeerError: 403,
  LimitExceededError: 422,
  DeadlineExceededError: 504,
  AbortError: 499,
  URIError: 400,
  ForbiddenHostError: 403,
  ForbiddenOriginError: 403,
  UnauthorizedError: 401,
  UnsupportedMediaTypeError: 415,
  ApiBusyError: 503
}

/** Headers some refusals carry (RFC 6750 challenge, retry hint). */
const HEADERS_BY_NAME: Record<string, Record<string, string>> = {
  UnauthorizedError: { 'www-authenticate': 'Bearer realm="edge-mesh"' },
  ApiBusyError: { 'retry-after': '1' }
}

export function statusFor (err: unknown): number {
  const name = err instanceof Error ? err.name : ''
  return STATUS_BY_NAME[name] ?? 500
}

export function sendError (res: ServerResponse, err: unknown): void {
  const name = err instanceof Error ? err.name : 'Error'
  const message = err instanceof Error ? err.message : String(err)
  // Offload failures (DeadlineExceededError, AllPeersFailedError) list the attempts the request made.
  const attempts = (err as { attempts?: unknown } | undefined)?.attempts
  const body = Array.isArray(attempts) ? { name, message, attempts } : { name, message }
  sendJson(res, statusFor(err), { error: body }, HEADERS_BY_NAME[name])
}

export function sendJson (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) { res.end(); return }
  const text = JSON.stringify(body)
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
  res.end(text)
}

/** An HTTP request the API cannot route. */
export class RouteNotFoundError extends Error {
  static override readonly name = 'RouteNotFoundError'
  override name = 'RouteNotFoundError'
}

/** A request body that is not the JSON the route expects. */
export class InvalidRequestError extends Error {
  static override readonly name = 'InvalidRequestError'
  override name = 'InvalidRequestError'
}
