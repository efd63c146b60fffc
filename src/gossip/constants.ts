/** Defaults of the load gossip capability. Each is documented in README "Configuration". */

/** The versioned gossipsub topic load reports travel on. */
export const LOAD_TOPIC = '/edge-mesh/load/1'

/** Version byte of the load report encoding. */
export const LOAD_REPORT_VERSION = 1

/** How often a node publishes its load, ms. */
export const DEFAULT_REPORT_INTERVAL_MS = 1000

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

/** A change of in-flight + queued work of at least this fraction of capacity triggers an early report. */
export const SIGNIFICANT_CHANGE_FRACTION = 0.25

/** Early reports are sent at most this often, ms. */
export const MIN_EARLY_REPORT_GAP_MS = 100

/** Most reports accepted from one peer per interval (a rate limit against floods). */
export const MAX_REPORTS_PER_INTERVAL = 10
