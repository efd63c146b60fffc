/**
 * @packageDocumentation
 *
 * The control API: plain HTTP on 127.0.0.1 (by default), JSON in and out.
 * `GET /status`, `GET /metrics` (Prometheus), `GET /health`, and the routes of
 * the capabilities present on the node (`POST /infer`, `/federated/runs`, `GET /`).
 * Errors are `{ "error": { "name", "message" } }` with a status code chosen in
 * `src/api/errors.ts`. Before any route runs, `guard.ts` refuses foreign
 * `Host` and `Origin` headers, non-JSON bodies and (when a token is set)
 * requests without it, and `body-budget.ts` bounds body bytes held at once;
 * see docs/security.md.
 *
 * @example
 * ```ts
 * services: { api: controlApi({ port: 0, role: 'edge', name: 'laptop' }) }
 * // later
 * console.log(node.services.api.url) // http://127.0.0.1:40123
 * ```
 */
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES_IN_FLIGHT } from './constants.js'
import { ControlApi } from './server.js'
import type { ProcessHealthMonitor } from './process-health.js'
import type { LoadView, LocalLoad } from '../gossip/types.js'
import type { ModelRuntime } from '../model/types.js'
import type { Federated } from '../federated/mesh/service-api.js'
import type { Offload } from '../offload/types.js'
import type { ComponentLogger, PeerId } from '@libp2p/interface'
import type { AddressManager, ConnectionManager } from '@libp2p/interface-internal'
import type { IncomingMessage, ServerResponse } from 'node:http'

export type { ControlApi }
export type { NodeStatus, PeerStatus } from './status.js'

export interface ControlApiInit {
  /** Interface to bind. @default '127.0.0.1' */
  host?: string
  /** Port; 0 picks a free one (read it from `url`). @default 7373 */
  port?: number
  /** Role shown in status. @default 'edge' */
  role?: string
  /** Name shown in status. @default '' */
  name?: string
  /** Largest request body, bytes. @default 16 MiB */
  maxBodyBytes?: number
  /** Request-body bytes held at once across all requests; beyond it requests are refused with 503 ApiBusyError. @default 32 MiB */
  maxBodyBytesInFlight?: number
  /** Bearer token every route but `/health` and the dashboard's static files requires. @default none (generated when `host` is not loopback) */
  token?: string
  /** File to read the token from. @default none */
  tokenFile?: string
  /** Where a generated token is kept (`<dataDir>/api.token`). @default '.' */
  dataDir?: string
  /** Extra host names the API answers to (beyond localhost, loopback addresses and `host`). @default [] */
  allowHosts?: string[]
}

/** The settings after defaults; token settings stay optional. */
export type ResolvedApiInit = Required<Omit<ControlApiInit, 'token' | 'tokenFile'>> & Pick<ControlApiInit, 'token' | 'tokenFile'>

export interface NodeInfo {
  role: string
  name: string
  startedAt: number
  /** Memory and event-loop delay of this process (set while the API runs). */
  health?: ProcessHealthMonitor
}

/** What the API reads. Optional parts add their routes only when present. */
export interface ControlApiComponents {
  peerId: PeerId
  logger: ComponentLogger
  addressManager: Pick<AddressManager, 'getAddresses'>
  connectionManager: Pick<ConnectionManager, 'getConnections'>
  loadView: LoadView
  localLoad: LocalLoad
  /**
   * The capabilities below are optional on purpose: the API serves whichever
   * of them the node runs (a seed may run no models, a test node no offload)
   * and answers 404 or leaves a section out for the others. Read them with
   * `optionalComponent`, since libp2p's components throw for an absent one.
   */
  models?: Pick<ModelRuntime, 'backend' | 'list' | 'memory' | 'budget'>
  offload?: Offload
  federated?: Federated
  meshDialer?: { stats(): { dials: number, dialFailures: number, knownPeers: number } }
  trust?: { stats(): { refused: number, bansIssued: number, inboundRefused?: Record<string, number> } }
  /** Resolves model names (`POST /infer` with `"model": "<name>"`) and knows the names of models in the mesh. */
  modelTransfer?: { resolve(nameOrId: string, options?: { signal?: AbortSignal }): Promise<string>, names?: { known(): Map<string, string> } }
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE'
  /** Exact path, or a prefix ending in `/*`. */
  path: string
  /** Served without the API token (health check, the dashboard's static files). @default false */
  public?: boolean
  handle(req: IncomingMessage, res: ServerResponse, params: { rest: string, query: URLSearchParams }): void | Promise<void>
}

export function controlApi (init: ControlApiInit = {}): (components: ControlApiComponents) => ControlApi {
  return (components) => new ControlApi(components, {
    host: init.host ?? '127.0.0.1',
    port: init.port ?? 7373,
    role: init.role ?? 'edge',
    name: init.name ?? '',
    maxBodyBytes: init.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    maxBodyBytesInFlight: init.maxBodyBytesInFlight ?? DEFAULT_MAX_BODY_BYTES_IN_FLIGHT,
    token: init.token,
    tokenFile: init.tokenFile,
    dataDir: init.dataDir ?? '.',
    allowHosts: init.allowHosts ?? []
  })
}
