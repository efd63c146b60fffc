/** The HTTP server shell of the control API: routing, error mapping, lifecycle. */
import { createServer } from 'node:http'
import { PortInUseError } from '../errors.js'
import { DEFAULT_REQUEST_TIMEOUT_MS } from './constants.js'
import { ProcessHealthMonitor } from './process-health.js'
import { RouteNotFoundError, sendError } from './errors.js'
import { capabilityMetrics } from './routes/capability-metrics.js'
import { coreRoutes } from './routes/core.js'
import { dashboardRoutes } from './routes/dashboard.js'
import { eventsRoutes } from './routes/events.js'
import { federatedRoutes } from './routes/federated.js'
import { inferRoutes } from './routes/infer.js'
import type { ControlApiComponents, ControlApiInit, NodeInfo, Route } from './index.js'
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

  constructor (private readonly components: ControlApiComponents, private readonly init: Required<ControlApiInit>) {
    this.log = components.logger.forComponent('edge-mesh:api')
    this.info = { role: init.role, name: init.name, startedAt: Date.now(), health: new ProcessHealthMonitor() }
    this.routes.push(...coreRoutes(components, this.info, () => this.metricSources.flatMap(source => source())))
    this.routes.push(...dashboardRoutes(), ...eventsRoutes(components, this.info))
    this.routes.push(...inferRoutes(components, init.maxBodyBytes))
    this.routes.push(...federatedRoutes(components, init.maxBodyBytes))
    this.metricSources.push(() => capabilityMetrics(components))
  }

  readonly [Symbol.toStringTag] = 'edge-mesh:control-api'

  /** The API's base URL once started, e.g. `http://127.0.0.1:7373`. */
  get url (): string {
    return this.boundUrl
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
      const url = new URL(req.url ?? '/', 'http://localhost')
      const { route, rest, pathKnown } = this.match(req.method ?? 'GET', url.pathname)
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
      if (!(err instanceof Error) || err.name === 'Error' || err.name === 'TypeError') this.log.error('API request failed: %s', err?.stack ?? err)
      sendError(res, err)
    }
  }
}
