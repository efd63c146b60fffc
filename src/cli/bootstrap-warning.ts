/**
 * A node started with `--bootstrap` whose bootstrap peers all refuse it (a
 * mesh-key mismatch, an allow-list, a wrong peer id) would otherwise run with
 * no connection and say nothing. This watches the mesh dialer's counters and
 * prints one warning, naming the likely cause, once the dials have failed
 * `BOOTSTRAP_WARNING_FAILURES` times per bootstrap peer with no connection made.
 */

/** Failed dials per bootstrap peer, with no connection at all, before the warning. */
export const BOOTSTRAP_WARNING_FAILURES = 2
/** How often the counters are read, ms. */
export const BOOTSTRAP_CHECK_INTERVAL_MS = 500

export interface BootstrapWatchInit {
  /** The bootstrap multiaddrs the node was given. */
  bootstrap: string[]
  /** True when the node runs with `--mesh-key`. */
  meshKey: boolean
  /** The node's connection count now. */
  connections(): number
  /** Dials the mesh dialer has made and seen fail so far. */
  dialFailures(): number
  warn(message: string, fields: Record<string, unknown>): void
}

/** The warning, or undefined while there is nothing to warn about. Pure. */
export function bootstrapWarning (bootstrap: string[], meshKey: boolean, connections: number, dialFailures: number): string | undefined {
  if (bootstrap.length === 0 || connections > 0 || dialFailures < BOOTSTRAP_WARNING_FAILURES * bootstrap.length) return undefined
  const cause = meshKey
    ? 'a mesh-key mismatch (the bootstrap peer has another --mesh-key, or none)'
    : 'the bootstrap peer runs a private mesh (--mesh-key) that this node is not part of'
  return `warning: could not connect to ${bootstrap.length === 1 ? 'the bootstrap peer' : `any of the ${bootstrap.length} bootstrap peers`} ` +
    `(${dialFailures} dials failed); likely cause: ${cause}. Other causes: its --allow-peers list, a wrong /p2p/ id, ` +
    'or nothing listening at that address. This node keeps retrying and runs alone until then.'
}

/** Start watching; returns the function that stops. Stops by itself after warning once or on the first connection. */
export function watchBootstrap (init: BootstrapWatchInit): () => void {
  if (init.bootstrap.length === 0) return () => {}
  const timer = setInterval(() => {
    const connections = init.connections()
    const message = bootstrapWarning(init.bootstrap, init.meshKey, connections, init.dialFailures())
    if (connections > 0) { clearInterval(timer); return }
    if (message == null) return
    clearInterval(timer)
    init.warn(message, { bootstrap: init.bootstrap, dialFailures: init.dialFailures() })
  }, BOOTSTRAP_CHECK_INTERVAL_MS)
  timer.unref()
  return () => { clearInterval(timer) }
}
