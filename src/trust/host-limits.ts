/**
 * Inbound connection limits per remote host, enforced in the connection
 * gater before the encryption handshake: a host holding many connections
 * (one machine with many peer ids, or a socket flood) cannot fill the node's
 * `maxConnections` and lock out peers that have not connected yet.
 *
 * - at most `maxPerHost` inbound connections, open or being set up, from one
 *   IP address (IPv6: one /64, what one subscriber usually holds);
 * - the last `reserved` slots of `maxConnections` go only to hosts that hold
 *   no connection yet, so a newcomer always finds a slot while the flood's
 *   host is capped.
 *
 * The decision is a pure function; `InboundHostLimiter` keeps the counts,
 * following each admitted connection until it closes.
 */
import { isIP } from 'node:net'
import type { MultiaddrConnection } from '@libp2p/interface'

export interface HostLimits {
  /** Inbound connections (open or being set up) from one host. */
  maxPerHost: number
  /** The node's connection limit (libp2p's `maxConnections`). */
  maxConnections: number
  /** Slots of `maxConnections` kept for hosts holding no connection. */
  reserved: number
}

export type InboundRefusal = 'per_host' | 'reserve'

/** Whether one more inbound connection from a host holding `fromHost` is refused, with `total` connections open or pending. */
export function inboundRefusal (fromHost: number, total: number, limits: HostLimits): InboundRefusal | undefined {
  if (fromHost >= limits.maxPerHost) return 'per_host'
  if (fromHost > 0 && total >= limits.maxConnections - limits.reserved) return 'reserve'
  return undefined
}

/** The host a remote address counts against: the IPv4 address, or the /64 of an IPv6 one. Undefined for relayed or non-IP addresses. */
export function hostKey (remoteAddr: string): string | undefined {
  if (remoteAddr.includes('/p2p-circuit')) return undefined
  const match = /^\/(ip4|ip6)\/([^/]+)/.exec(remoteAddr)
  if (match == null) return undefined
  const ip = match[2].toLowerCase()
  if (match[1] === 'ip4') return isIP(ip) === 4 ? ip : undefined
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip)
  if (mapped != null) return mapped[1]
  if (isIP(ip) !== 6) return undefined
  return `${expandIpv6(ip).slice(0, 4).join(':')}::/64`
}

function expandIpv6 (ip: string): string[] {
  const [head, tail = ''] = ip.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = ip.includes('::') ? (tail === '' ? [] : tail.split(':')) : []
  const fill = Array(Math.max(0, 8 - left.length - right.length)).fill('0')
  return [...left, ...fill, ...right].map(part => part.replace(/^0+(?=.)/, ''))
}

/** Counts inbound connections per host and applies `inboundRefusal`. */
export class InboundHostLimiter {
  private readonly perHost = new Map<string, number>()
  private readonly pending = new WeakSet<MultiaddrConnection>()
  private pendingCount = 0
  readonly refusals: Record<InboundRefusal, number> = { per_host: 0, reserve: 0 }

  /** `openConnections` reads the node's open connections (all directions). */
  constructor (private readonly limits: HostLimits, private readonly openConnections: () => number) {}

  /** Inbound connections counted against `host` now. */
  count (host: string): number {
    return this.perHost.get(host) ?? 0
  }

  /** Gater hook before the handshake: true refuses the connection. */
  deny (maConn: MultiaddrConnection): boolean {
    const host = hostKey(maConn.remoteAddr.toString())
    if (host == null) return false
    const refusal = inboundRefusal(this.count(host), this.openConnections() + this.pendingCount, this.limits)
    if (refusal != null) {
      this.refusals[refusal]++
      return true
    }
    this.perHost.set(host, this.count(host) + 1)
    this.pending.add(maConn)
    this.pendingCount++
    maConn.addEventListener('close', () => {
      this.settle(maConn)
      const left = this.count(host) - 1
      if (left > 0) this.perHost.set(host, left)
      else this.perHost.delete(host)
    }, { once: true })
    return false
  }

  /** Gater hook once the connection is upgraded: it now counts among the open connections. */
  settle (maConn: MultiaddrConnection): void {
    if (!this.pending.delete(maConn)) return
    this.pendingCount--
  }
}
