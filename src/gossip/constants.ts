/** Defaults of the load gossip capability. Each is documented in README "Configuration". */

/** The versioned gossipsub topic load reports travel on. */
export const LOAD_TOPIC = '/edge-mesh/load/1'

/**
 * Version byte of the load report encoding nodes send: 2 added the heartbeat
 * interval, 3 appends offload traffic counters and the sender's neighbours.
 */
export const LOAD_REPORT_VERSION = 3

/** Version 2 (heartbeat interval, no traffic or neighbours), still decoded. */
export const LOAD_REPORT_VERSION_2 = 2

/** The first version, still decoded (no heartbeat interval). */
export const LOAD_REPORT_VERSION_1 = 1

/**
 * The base report interval, ms: how often a node of a small mesh publishes
 * its load even when nothing changed (its heartbeat), and the period of the
 * timer that checks for expiry. In a larger mesh the heartbeat slows down (see
 * `DEFAULT_HEARTBEAT_BUDGET`).
 */
export const DEFAULT_REPORT_INTERVAL_MS = 1000

/**
 * Heartbeats per second the whole mesh aims to send (`lan`). A node's
 * heartbeat interval is `max(base interval, meshSize / budget s)`, so every
 * node receives about this many heartbeats per second whatever the mesh's size
 * (memberlist bounds its gossip the same way). With the `lan` default a mesh
 * of up to 4 nodes keeps the 1 s heartbeat; 100 nodes send one every 25 s each.
 */
export const DEFAULT_HEARTBEAT_BUDGET = 4

/**
 * Change reports per second the whole mesh may send (`lan`): a node whose work
 * changed significantly reports at most every `max(MIN_EARLY_REPORT_GAP_MS,
 * meshSize / budget s)`. Together with the heartbeat budget this bounds the
 * reports any node receives per second, independently of the mesh's size.
 */
export const DEFAULT_CHANGE_BUDGET = 8

/** Longest heartbeat interval, ms (a mesh above budget x this many seconds sends more than its budget). */
export const DEFAULT_MAX_HEARTBEAT_INTERVAL_MS = 120_000

/** Largest heartbeat interval a report may carry, ms (the field's validation limit). */
export const MAX_HEARTBEAT_INTERVAL_MS = 3_600_000

/** An entry expires after this many intervals without a newer report. */
export const DEFAULT_EXPIRY_INTERVALS = 3

/** Largest encoded report accepted (bytes); larger ones are rejected by the topic validator. */
export const MAX_REPORT_BYTES = 4096

/** Reports stamped further than this in the future (sender clock vs ours) are rejected, ms. */
export const MAX_CLOCK_SKEW_MS = 60_000

/** Limits inside one report. */
export const MAX_MODELS = 32
export const MAX_MODEL_ID_BYTES = 80
export const MAX_ADDRS = 16
export const MAX_ADDR_BYTES = 256
export const MAX_NAME_BYTES = 64
export const MAX_BACKEND_BYTES = 16

/**
 * Most neighbours (connected peers) one report lists (version 3). A node with
 * more connections lists the first 16 by peer id and still reports its full
 * connection count, so a report stays small whatever the mesh's size.
 */
export const MAX_NEIGHBOURS = 16

/** Longest peer id in a report's neighbour list, bytes of its binary multihash (Ed25519 ids take 38). */
export const MAX_PEER_ID_BYTES = 64

/** Largest traffic counter a report carries (u32); larger counts saturate at it. */
export const MAX_TRAFFIC_COUNT = 0xffff_ffff

/** A change of in-flight + queued work of at least this fraction of capacity triggers an early report. */
export const SIGNIFICANT_CHANGE_FRACTION = 0.25

/** Early reports are sent at most this often, ms. */
export const MIN_EARLY_REPORT_GAP_MS = 100

/** Most reports accepted from one peer per interval (a rate limit against floods). */
export const MAX_REPORTS_PER_INTERVAL = 10

/**
 * gossipsub's mesh degrees for edge-mesh's topics (issue #12, idle cost):
 * `D` peers per topic mesh, kept between `Dlo` and `Dhi`, gossip (IHAVE) to
 * `Dlazy` peers outside the mesh at every gossipsub heartbeat, `Dout` of the
 * mesh dialled by this node, `Dscore` kept by score when pruning.
 *
 * A node receives each message about once from every peer of its mesh, so its
 * cost per report is its mesh degree; gossipsub's defaults (6, 4-12) let
 * that degree grow to 12 and made an idle edge of an 11-node mesh receive 6.6
 * copies of every report (2.9 in a 4-node mesh). The topics carry a few small
 * messages a second (load reports, run status), so a small degree is enough:
 * memberlist gossips to 3 nodes in its LAN config, and the IHAVE gossip
 * repairs what a thin mesh misses. A mesh of up to `D + 1` nodes is still fully
 * meshed (every report one hop away).
 */
export const PUBSUB_MESH = { D: 3, Dlo: 2, Dhi: 4, Dlazy: 3, Dscore: 1, Dout: 1 } as const

/** gossipsub mesh degrees (see `PUBSUB_MESH`). */
export interface PubsubMesh { D: number, Dlo: number, Dhi: number, Dlazy: number, Dscore: number, Dout: number }
