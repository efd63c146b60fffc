/** The HTTP server shell of the control API: routing, error mapping, lifecycle. */
import { createServer } from 'node:http'
import { hostname, networkInterfaces } from 'node:os'
import { ApiBusyError, PortInUseError } from '../errors.js'
import { BodyBudget } from './body-budget.js'
import { DEFAULT_REQUEST_TIMEOUT_MS } from './constants.js'
import { ProcessHealthMonitor } from './process-health.js'
import { InvalidRequestError, RouteNotFoundError, sendError } from './errors.js'
import { LOOPBACK_HOSTS, checkHost, checkMediaType, checkOrigin, checkToken, decodePath, hasBody, hostName, isWildcardHost, refusalReason } from './guard.js'
import { resolveApiToken } from './token.js'
import { capabilityMetrics } from './routes/capability-metrics.js'
import { coreRoutes } from './routes/core.js'
import { dashboardRoutes } from './routes/dashboard.js'
import { eventsRoutes } from './routes/events.js'
import { federatedRoutes } from './routes/federated.js'
import { inferRoutes } from './routes/infer.js'
import type { ControlApiComponents, NodeInfo, ResolvedApiInit, Route } from './index.js'
import type { GuardPolicy, RefusalReason } from './guard.js'
import type { MetricFamily } from './metrics.js'
import type { Logger, Startable } from '@libp2p/interface'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export class ControlApi implements Startable {
  private readonly log: Logger
  private server?: Server
  private readonly info: NodeInfo
  private readonly routes: Route[] = []
  private readonly metricSources: Array<() => MetricFamily[]> = []
  private boundUrl = ''
  private policy?: GuardPolicy
  private tokenPath?: string
  private readonly budget: BodyBudget
  private readonly refusals = new Map<RefusalReason, number>()

  constructor (private readonly components: ControlApiComponents, private readonly init: ResolvedApiInit) {
    this.log = components.logger.forComponent('edge-mesh:api')
    this.budget = new BodyBudget(init.maxBodyBytesInFlight)
    this.info = { role: init.role, name: init.name, startedAt: Date.now(), health: new ProcessHealthMonitor() }
    this.routes.push(...coreRoutes(components, this.info, () => this.metricSources.flatMap(source => source())))
    this.routes.push(...dashboardRoutes(), ...eventsRoutes(components, this.info))
    this.routes.push(...inferRoutes(components, init.maxBodyBytes))
    this.routes.push(...federatedRoutes(components, init.maxBodyBytes))
    this.metricSources.push(() => capabilityMetrics(components), () => this.guardMetrics())
  }

  readonly [Symbol.toStringTag] = 'edge-mesh:control-api'

  /** The API's base URL once started, e.g. `http://127.0.0.1:7373`. */
  get url (): string {
    return this.boundUrl
  }

  /** File holding the API token (given with --api-token-file, or generated because the API binds beyond loopback). */
  get tokenFile (): string | undefined {
    return this.tokenPath
  }

  /** Add the routes of a capability (called by the node before start). */
  addRoutes (routes: Route[]): void {
    this.routes.push(...routes)
  }

  /** Add metric families served at `/metrics`. */
  addMetrics (source: () => MetricFamily[]): void {
    this.metricSources.push(source)
  }

  async start (): Promise<void> {
    if (this.server != null) return
    const token = await resolveApiToken({ host: this.init.host, dataDir: this.init.dataDir, token: this.init.token, tokenFile: this.init.tokenFile })
    this.tokenPath = token.file
    this.info.health?.start()
    // A request must arrive in full within the timeout (a slow-loris client cannot hold a socket); responses such as /events may last.
    const server = createServer({ requestTimeout: DEFAULT_REQUEST_TIMEOUT_MS }, (req, res) => { void this.dispatch(req, res) })
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: any) => {
        reject(err?.code === 'EADDRINUSE'
          ? new PortInUseError(`control API port ${this.init.port} on ${this.init.host} is already in use; pick another with --api-port (0 picks a free one)`)
          : err)
      })
      server.listen(this.init.port, this.init.host, () => { resolve() })
    })
    this.server = server
    const address = server.address() as AddressInfo
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    this.boundUrl = `http://${host}:${address.port}`
    this.policy = { hosts: this.allowedHosts(), port: address.port, token: token.token }
    this.log('control API on %s', this.boundUrl)
  }

  async stop (): Promise<void> {
    const server = this.server
    if (server == null) return
    this.server = undefined
    this.info.health?.stop()
    server.closeAllConnections()
    await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  }

  /** Names the API answers to: loopback, the bound address, configured names and, bound to every interface, this machine's addresses and name. */
  private allowedHosts (): Set<string> {
    const names = [...LOOPBACK_HOSTS, this.init.host, ...this.init.allowHosts]
    if (isWildcardHost(this.init.host)) {
      names.push(hostname())
      for (const list of Object.values(networkInterfaces())) names.push(...(list ?? []).map(i => i.address))
    }
    return new Set(names.map(n => hostName(n.includes(':') && !n.startsWith('[') ? `[${n}]` : n)).filter((n): n is string => n != null))
  }

  private guardMetrics (): MetricFamily[] {
    const reasons: RefusalReason[] = ['bad_url', 'host', 'origin', 'token', 'media_type', 'busy', 'too_large']
    return [
      { name: 'edge_mesh_api_requests_refused_total', help: 'Control API requests refused before their route ran, by reason (bad_url, host, origin, token, media_type, busy, too_large).', type: 'counter', samples: reasons.map(reason => ({ labels: { reason }, value: this.refusals.get(reason) ?? 0 })) },
      { name: 'edge_mesh_api_body_bytes_in_flight', help: 'Request-body bytes the control API holds now (bounded by maxBodyBytesInFlight).', type: 'gauge', samples: [{ value: this.budget.inFlight }] }
    ]
  }

  private refuse (reason: RefusalReason): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1)
  }

  /** The checks every request passes before routing; throws the typed refusal. */
  private admit (req: IncomingMessage, url: URL, route: Route | undefined, res: ServerResponse): void {
    const policy = this.policy
    if (policy == null) throw new ApiBusyError('the control API is starting')
    checkHost(req.headers.host, policy)
    checkOrigin(req.headers.origin, policy)
    if (route?.public !== true) checkToken(req.headers, req.method ?? 'GET', url.searchParams, policy)
    if (route == null || !hasBody(req.headers)) return
    checkMediaType(req.headers)
    const declared = Number(req.headers['content-length'] ?? this.init.maxBodyBytes)
    const release = this.budget.tryAcquire(Math.min(declared, this.init.maxBodyBytes))
    if (release == null) throw new ApiBusyError(`the control API already holds ${this.budget.inFlight} bytes of request bodies (limit ${this.init.maxBodyBytesInFlight}); retry shortly`)
    res.once('close', release)
  }

  private parseUrl (raw: string | undefined): URL {
    let url: URL
    try {
      url = new URL(raw ?? '/', 'http://localhost')
    } catch {
      throw new InvalidRequestError('the request target is not a valid URL')
    }
    decodePath(url.pathname)
    return url
  }

  private match (method: string, pathname: string): { route?: Route, rest: string, pathKnown: boolean } {
    let pathKnown = false
    for (const route of this.routes) {
      const prefix = route.path.endsWith('/*') ? route.path.slice(0, -1) : undefined
      const hit = prefix != null ? pathname.startsWith(prefix) : pathname === route.path
      if (!hit) continue
      pathKnown = true
      if (route.method === method) return { route, rest: prefix != null ? pathname.slice(prefix.length) : '', pathKnown }
    }
    return { rest: '', pathKnown }
  }

  private async dispatch (req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      let url: URL
      try {
        url = this.parseUrl(req.url)
      } catch (err) {
        this.refuse('bad_url')
        throw err
      }
      const { route, rest, pathKnown } = this.match(req.method ?? 'GET', url.pathname)
      this.admit(req, url, route, res)
      if (route == null) {
        if (pathKnown) {
          const err = new Error(`${req.method ?? ''} is not allowed on ${url.pathname}`)
          err.name = 'MethodNotAllowedError'
          throw err
        }
        throw new RouteNotFoundError(`no route for ${req.method ?? ''} ${url.pathname}`)
      }
      await route.handle(req, res, { rest, query: url.searchParams })
    } catch (err: any) {
      const reason = refusalReason(err?.name)
      if (reason != null) this.refuse(reason)
      if (!(err instanceof Error) || err.name === 'Error' || err.name === 'TypeError') this.log.error('API request failed: %s', err?.stack ?? err)
      sendError(res, err)
    }
  }
}
