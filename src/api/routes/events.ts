/**
 * `GET /events`: a server-sent-events stream of dashboard snapshots, one at
 * once on connect and one per interval after. One timer serves every client
 * and runs only while someone listens; clients are capped, and a client that
 * stops reading is dropped once its unsent backlog passes a bound.
 */
import { sendJson } from '../errors.js'
import { buildSnapshot } from '../snapshot.js'
import type { ControlApiComponents, NodeInfo, Route } from '../index.js'
import type { DashboardSnapshot } from '../snapshot.js'
import type { Logger } from '@libp2p/interface'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** Concurrent `/events` clients per node. */
export const DEFAULT_MAX_EVENT_CLIENTS = 32
/** Time between snapshots, ms. */
export const DEFAULT_EVENT_INTERVAL_MS = 1000
/** Unsent bytes a client may fall behind by before it is dropped. */
export const MAX_CLIENT_BACKLOG_BYTES = 1024 * 1024
/** Browser reconnect delay sent in the stream, ms. */
const RETRY_MS = 2000

export interface EventsInit {
  maxClients?: number
  intervalMs?: number
}

/** Fans one snapshot per tick out to every connected client. */
export class SnapshotStream {
  private readonly clients = new Set<ServerResponse>()
  private timer?: ReturnType<typeof setInterval>

  constructor (
    private readonly snapshot: () => DashboardSnapshot,
    private readonly init: Required<EventsInit>,
    private readonly log: Logger
  ) {}

  get size (): number {
    return this.clients.size
  }

  attach (req: IncomingMessage, res: ServerResponse): void {
    if (this.clients.size >= this.init.maxClients) {
      sendJson(res, 503, { error: { name: 'TooManyClientsError', message: `this node already streams to ${this.init.maxClients} dashboards; close one and retry` } })
      return
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' })
    res.write(`retry: ${RETRY_MS}\n\n`)
    this.clients.add(res)
    const detach = (): void => { this.detach(res) }
    req.once('close', detach)
    res.once('close', detach)
    res.once('error', detach)
    this.send([res], this.frame())
    this.timer ??= setInterval(() => { this.tick() }, this.init.intervalMs)
    this.timer.unref?.()
  }

  private detach (res: ServerResponse): void {
    if (!this.clients.delete(res)) return
    if (!res.destroyed) res.destroy()
    if (this.clients.size === 0 && this.timer != null) {
      clearInterval(this.timer)
      this.timer = undefined
    }
  }

  private tick (): void {
    if (this.clients.size === 0) return
    this.send([...this.clients], this.frame())
  }

  /** One SSE frame; undefined when the snapshot could not be built (the next tick tries again). */
  private frame (): string | undefined {
    try {
      return `event: snapshot\ndata: ${JSON.stringify(this.snapshot())}\n\n`
    } catch (err: any) {
      this.log.error('could not build a dashboard snapshot: %s', err?.stack ?? err)
      return undefined
    }
  }

  private send (targets: ServerResponse[], frame: string | undefined): void {
    if (frame == null) return
    for (const res of targets) {
      if (res.writableLength > MAX_CLIENT_BACKLOG_BYTES) { this.detach(res); continue }
      res.write(frame)
    }
  }
}

export function eventsRoutes (components: ControlApiComponents, info: NodeInfo, init: EventsInit = {}): Route[] {
  const stream = new SnapshotStream(() => buildSnapshot(components, info, Date.now()), {
    maxClients: init.maxClients ?? DEFAULT_MAX_EVENT_CLIENTS,
    intervalMs: init.intervalMs ?? DEFAULT_EVENT_INTERVAL_MS
  }, components.logger.forComponent('edge-mesh:api:events'))
  return [{ method: 'GET', path: '/events', handle: (req, res) => { stream.attach(req, res) } }]
}
