/** Defaults of the discovery capability. */

/** File in the data dir where known peers are remembered across restarts. */
export const KNOWN_PEERS_FILE = 'peers.json'
/** Most peers remembered. */
export const MAX_KNOWN_PEERS = 256
/** Time a single dial may take, ms. */
export const DIAL_TIMEOUT_MS = 5000
/** First wait before redialling a peer that failed or dropped, ms (doubles up to the cap). */
export const DEFAULT_REDIAL_MS = 5000
/** Longest wait between redials, ms. */
export const MAX_REDIAL_MS = 60_000
/** Known peers are written to disk at most this often, ms. */
export const PERSIST_DEBOUNCE_MS = 1000
/** Most known peers dialled in one maintenance pass (a pass runs every redial interval). */
export const DIALS_PER_MAINTENANCE = 8
/** A known peer that failed this many dials in a row is forgotten. */
export const MAX_FAILURES_BEFORE_FORGET = 10
/** Longest wait between redials of a bootstrap peer (a seed that is down), ms. */
export const MAX_BOOTSTRAP_REDIAL_MS = 10_000
/**
 * Distinct peers the mesh dialer connects to because of gossip or mDNS (more
 * are reached on demand, through the addresses in the peer store). gossipsub
 * keeps 2 to 4 of them in its mesh (`PUBSUB_MESH`); two more keep it robust to
 * churn and give the IHAVE gossip peers outside the mesh. Bootstrap and mDNS
 * peers count towards it. It was 12 (gossipsub's default `Dhi`) before the
 * mesh degree was lowered; every connection costs a ping every 10 s each way
 * and gossipsub's per-peer upkeep, so an 11-node mesh was fully connected.
 */
export const DEFAULT_TARGET_PEERS = 6
/** Wait before checking a peer's connections for duplicates after it connected, ms (lets streams settle on the keeper). */
export const DUPLICATE_CHECK_DELAY_MS = 2000
