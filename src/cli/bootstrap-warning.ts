/**
 * A node started with `--bootstrap` whose bootstrap peers all refuse it (a
 * mesh-key mismatch, an allow-list, a wrong peer id) would otherwise run with
 * no connection and say nothing. This watches the refusals (failed dials, and
 * connections to a bootstrap peer that it closes again) and, once there have
 * been `BOOTSTRAP_WARNING_FAILURES` per bootstrap peer while no connection has
 * lasted `BOOTSTRAP_SETTLED_MS`, probes the first bootstrap address once (a TCP
 * connect, then one libp2p dial) to name the likely cause, and prints one warning.
 */
import { connect } from 'node:net'

/** Failed dials per bootstrap peer, with no connection at all, before the warning. */
export const BOOTSTRAP_WARNING_FAILURES = 2
/** How often the counters are read, ms. */
export const BOOTSTRAP_CHECK_INTERVAL_MS = 500
/** A connection open this long means the node is in: the watch ends without a warning, ms. */
export const BOOTSTRAP_SETTLED_MS = 3000
/** Longest wait for the probe's TCP connect and for its libp2p dial, ms each. */
export const BOOTSTRAP_PROBE_TIMEOUT_MS = 5000

/** What probing a bootstrap address found. */
export type ProbeResult =
  | { kind: 'refused' } // nothing listens there (TCP connection refused)
  | { kind: 'unreachable' } // no TCP answer in time (wrong address, firewall, host down)
  | { kind: 'handshake-failed', stalled: boolean, message: string } // TCP connects, then the handshake stalls or the peer closes it
  | { kind: 'wrong-peer' } // another node answers than the /p2p/ id names
  | { kind: 'connected' } // the dial succeeded: the peer closes accepted connections again (allow-list, ban)

/** The likely cause, as the warning says it. Pure. */
export function likelyCause (probe: ProbeResult, meshKey: boolean): string {
  switch (probe.kind) {
    case 'refused': return 'nothing listens at that address (is the node running, and is the port right?)'
    case 'unreachable': return 'the address does not answer (wrong address, a firewall, or the host is down)'
    case 'handshake-failed':
      // A peer with another key (or none) stalls the handshake, resets it or answers bytes that do not parse;
      // an allow-list refuses only after the handshake (the probe then connects).
      return meshKey
        ? `a mesh-key mismatch: the bootstrap peer has another --mesh-key, or none (the handshake ${probe.message})`
        : `the bootstrap peer runs a private mesh (--mesh-key) that this node has no key for (the handshake ${probe.message})`
    case 'wrong-peer': return 'another node answers at that address than the /p2p/ id names (it was restarted with a new data dir?)'
    case 'connected': return 'it accepts connections and then closes them: its --allow-peers list may not name this node, or it banned this node'
  }
}

/** The warning, or undefined while there is nothing to warn about. Pure. */
export function bootstrapWarning (bootstrap: string[], settled: boolean, refusals: number, cause: string): string | undefined {
  if (bootstrap.length === 0 || settled || refusals < BOOTSTRAP_WARNING_FAILURES * bootstrap.length) return undefined
  return `warning: could not join through ${bootstrap.length === 1 ? 'the bootstrap peer' : `any of the ${bootstrap.length} bootstrap peers`} ` +
    `(${refusals} failed or closed connections); likely cause: ${cause}. This node keeps retrying and runs alone until then.`
}

/** Whether TCP connects to the host and port of `addr` (`/ip4/<host>/tcp/<port>/…`, also ip6 and dns); undefined when it names no TCP address. */
export async function probeTcp (addr: string, timeoutMs = BOOTSTRAP_PROBE_TIMEOUT_MS): Promise<ProbeResult | undefined> {
  const m = /^\/(?:ip4|ip6|dns|dns4|dns6)\/([^/]+)\/tcp\/(\d+)/.exec(addr)
  if (m == null) return undefined
  return await new Promise(resolve => {
    const socket = connect({ host: m[1], port: Number(m[2]) })
    const done = (result: ProbeResult | undefined): void => { socket.destroy(); resolve(result) }
    socket.setTimeout(timeoutMs, () => { done({ kind: 'unreachable' }) })
    socket.once('connect', () => { done(undefined) })
    socket.once('error', (err: NodeJS.ErrnoException) => { done(err.code === 'ECONNREFUSED' ? { kind: 'refused' } : { kind: 'unreachable' }) })
  })
}

/** What one libp2p dial to an address that accepts TCP says. */
export function classifyDialError (err: any): ProbeResult {
  if (err == null) return { kind: 'connected' }
  if (/does not match expected remote identity/i.test(String(err.message))) return { kind: 'wrong-peer' }
  const stalled = err.name === 'TimeoutError' || err.name === 'AbortError'
  return { kind: 'handshake-failed', stalled, message: stalled ? 'timed out' : `failed: ${String(err.message ?? err)}`.slice(0, 160) }
}

export interface BootstrapWatchInit {
  /** The bootstrap multiaddrs the node was given. */
  bootstrap: string[]
  /** True when the node runs with `--mesh-key`. */
  meshKey: boolean
  /** True once some connection has stayed open `BOOTSTRAP_SETTLED_MS`. */
  settled(): boolean
  /** Dials that failed plus connections to a bootstrap peer that closed, so far. */
  refusals(): number
  /** One libp2p dial to `addr`; rejects with the dial's error. */
  dial(addr: string, signal: AbortSignal): Promise<void>
  warn(message: string, fields: Record<string, unknown>): void
}

/** Probe `addr`: TCP first, then one libp2p dial (closed again at once if it succeeds). */
async function probe (init: BootstrapWatchInit, addr: string): Promise<ProbeResult> {
  const tcp = await probeTcp(addr)
  if (tcp != null) return tcp
  try {
    await init.dial(addr, AbortSignal.timeout(BOOTSTRAP_PROBE_TIMEOUT_MS))
    return { kind: 'connected' }
  } catch (err) {
    return classifyDialError(err)
  }
}

/** Start watching; returns the function that stops. Stops by itself after warning once or on the first connection. */
export function watchBootstrap (init: BootstrapWatchInit): () => void {
  if (init.bootstrap.length === 0) return () => {}
  let stopped = false
  const timer = setInterval(() => {
    if (init.settled()) { clearInterval(timer); return }
    if (bootstrapWarning(init.bootstrap, false, init.refusals(), '') == null) return
    clearInterval(timer)
    void probe(init, init.bootstrap[0]).then(async result => {
      // The probe got in: warn only if that connection is gone again before it settles.
      if (result.kind === 'connected') await new Promise(resolve => { setTimeout(resolve, BOOTSTRAP_SETTLED_MS + BOOTSTRAP_CHECK_INTERVAL_MS).unref() })
      const message = bootstrapWarning(init.bootstrap, init.settled(), init.refusals(), likelyCause(result, init.meshKey))
      if (!stopped && message != null) init.warn(message, { bootstrap: init.bootstrap, refusals: init.refusals(), cause: result.kind })
    })
  }, BOOTSTRAP_CHECK_INTERVAL_MS)
  timer.unref()
  return () => { stopped = true; clearInterval(timer) }
}
