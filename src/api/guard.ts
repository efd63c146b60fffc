/**
 * Who may talk to the control API, decided before any route runs (the checks
 * IPFS Kubo applies to its RPC API):
 *
 * - `Host` must name this API (localhost, a loopback address, the bound
 *   address, or a configured name): a DNS-rebinding page reaches the API under
 *   its own host name and is refused;
 * - `Origin`, when present, must be the API's own origin: any other web page
 *   the user visits is refused, so it can neither start work nor read answers;
 * - a body must be declared `application/json`: the types a page can send
 *   without a CORS preflight (text/plain, forms, multipart) are refused;
 * - with a token configured, `Authorization: Bearer <token>` must carry it.
 *
 * Pure functions of the request's headers, unit-tested without a server.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import { ForbiddenHostError, ForbiddenOriginError, UnauthorizedError, UnsupportedMediaTypeError } from '../errors.js'
import { InvalidRequestError } from './errors.js'
import type { IncomingHttpHeaders } from 'node:http'

/** Names and addresses the API always answers to. */
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '::1']

/** Why a request was refused; the label of `edge_mesh_api_requests_refused_total`. */
export type RefusalReason = 'bad_url' | 'host' | 'origin' | 'token' | 'media_type' | 'busy' | 'too_large'

export interface GuardPolicy {
  /** Host names and IP addresses (lower case, IPv6 without brackets) the API answers to. */
  hosts: ReadonlySet<string>
  /** Port the API listens on (an `Origin` must name it). */
  port: number
  /** Bearer token required on every non-public route; undefined: none. */
  token?: string
}

/** True when `host` is a loopback name or address (an API bound there is reachable from this machine only). */
export function isLoopbackHost (host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'))
}

/** True when `host` is a wildcard address (the API answers on every interface). */
export function isWildcardHost (host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]'
}

/** The host name of a `Host` header value or URL authority, lower case, IPv6 without brackets; undefined when malformed. */
export function hostName (authority: string): string | undefined {
  const match = /^(?:\[([0-9a-f:.]+)\]|([^:[\]/\s@]+))(?::(\d{1,5}))?$/i.exec(authority.trim())
  if (match == null) return undefined
  return (match[1] ?? match[2]).toLowerCase().replace(/\.$/, '')
}

/** Refuse a `Host` header that names another site. A request without one (HTTP/1.0, no browser) passes. */
export function checkHost (header: string | undefined, policy: GuardPolicy): void {
  if (header == null) return
  const name = hostName(header)
  if (name == null || !policy.hosts.has(name)) {
    throw new ForbiddenHostError(`the control API does not answer to Host "${header.slice(0, 100)}" (DNS rebinding?); allowed: ${[...policy.hosts].join(', ')}`)
  }
}

/** Refuse an `Origin` other than the API's own (same host list, same port). No `Origin`: not a cross-site browser request. */
export function checkOrigin (header: string | undefined, policy: GuardPolicy): void {
  if (header == null) return
  const match = /^http:\/\/([^/]+)$/i.exec(header.trim())
  const authority = match?.[1]
  const name = authority == null ? undefined : hostName(authority)
  const port = authority == null ? undefined : (/:(\d+)$/.exec(authority)?.[1] ?? '80')
  if (name == null || !policy.hosts.has(name) || Number(port) !== policy.port) {
    throw new ForbiddenOriginError(`requests from web pages of other origins are refused (Origin "${header.slice(0, 100)}")`)
  }
}

/** True when a request carries a body (a length above zero, or a chunked one). */
export function hasBody (headers: IncomingHttpHeaders): boolean {
  return Number(headers['content-length'] ?? 0) > 0 || headers['transfer-encoding'] != null
}

/** Refuse a body that is not declared `application/json` (text/plain, forms and multipart are what a page can send without asking). */
export function checkMediaType (headers: IncomingHttpHeaders): void {
  if (!hasBody(headers)) return
  const type = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
  if (type !== 'application/json') {
    throw new UnsupportedMediaTypeError(`request bodies must be application/json, got ${type === '' ? 'no content-type' : type.slice(0, 100)}`)
  }
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest()

/** True when `presented` equals `token`, compared in constant time (digests of equal length). */
export function tokenMatches (presented: string, token: string): boolean {
  return timingSafeEqual(digest(presented), digest(token))
}

/**
 * Refuse a request without the token: `Authorization: Bearer <token>`, or
 * (GET only, for the dashboard's EventSource, which cannot set headers) the
 * `access_token` query parameter of RFC 6750.
 */
export function checkToken (headers: IncomingHttpHeaders, method: string, query: URLSearchParams, policy: GuardPolicy): void {
  if (policy.token == null) return
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1]
  const presented = bearer ?? (method === 'GET' ? query.get('access_token') ?? undefined : undefined)
  if (presented == null) throw new UnauthorizedError('this control API requires a token: send "Authorization: Bearer <token>" (the CLI reads EDGE_MESH_API_TOKEN)')
  if (!tokenMatches(presented, policy.token)) throw new UnauthorizedError('the API token is wrong')
}

/** The request path, percent-decoded; a malformed encoding (`%ZZ`) is a 400, not a crash. */
export function decodePath (pathname: string): string {
  try {
    return decodeURIComponent(pathname)
  } catch {
    throw new InvalidRequestError(`the request path is not valid percent-encoding: ${pathname.slice(0, 100)}`)
  }
}

/** The refusal label of a guard error. */
export function refusalReason (name: string): RefusalReason | undefined {
  const reasons: Record<string, RefusalReason> = {
    ForbiddenHostError: 'host',
    ForbiddenOriginError: 'origin',
    UnauthorizedError: 'token',
    UnsupportedMediaTypeError: 'media_type',
    ApiBusyError: 'busy',
    MessageTooLargeError: 'too_large'
  }
  return reasons[name]
}
