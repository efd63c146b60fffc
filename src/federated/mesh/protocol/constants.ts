/**
 * Defaults of `/edge-mesh/fedavg/1.0.0` and the run-status gossip topic.
 * Every limit and timeout of the federated service falls back to a value here.
 */

/** The federated averaging protocol id. */
export const FEDAVG_PROTOCOL = '/edge-mesh/fedavg/1.0.0'

/** The gossipsub topic carrying run summaries from coordinators. */
export const FEDRUNS_TOPIC = '/edge-mesh/fedruns/1'

/** Version byte that starts every control frame. */
export const CONTROL_VERSION = 1

/** Largest control frame (version, type, JSON header), bytes: 16 KiB. */
export const MAX_CONTROL_BYTES = 16 * 1024

/** Largest weight record accepted or sent: 48 MiB (a 10M-parameter float32 model is 40 MB). */
export const DEFAULT_MAX_RECORD_BYTES = 48 * 1024 * 1024

/** Payload of one weight data frame sent, bytes: 256 KiB (fewer frames to decode than 64 KiB: +7 % goodput in bench:fedavg). */
export const DEFAULT_WEIGHT_CHUNK_BYTES = 256 * 1024

/** Largest frame read (control or weight data), bytes: 1 MiB. */
export const MAX_FRAME_BYTES = 1024 * 1024

/** Longest a HELLO or START exchange may take, ms. */
export const DEFAULT_CONTROL_TIMEOUT_MS = 10_000

/** Longest an ANNOUNCE exchange may take (it includes fetching the base model), ms. */
export const DEFAULT_ANNOUNCE_TIMEOUT_MS = 120_000

/** Longest a PULL or PUSH stream may stay open, ms. */
export const DEFAULT_TRANSFER_TIMEOUT_MS = 120_000

/** Concurrent inbound fedavg streams per connection. */
export const DEFAULT_MAX_INBOUND_STREAMS = 32

/** Concurrent outbound fedavg streams per connection. */
export const DEFAULT_MAX_OUTBOUND_STREAMS = 32

/** Largest run-status gossip message, bytes: 64 KiB (older rounds are dropped from `history` to fit). */
export const MAX_RUN_GOSSIP_BYTES = 64 * 1024

/** How often a coordinator republishes the summaries of its running runs, ms (late joiners see them). */
export const DEFAULT_RUN_GOSSIP_INTERVAL_MS = 5000

/** Runs learned from gossip kept per node (oldest dropped first). */
export const MAX_KNOWN_RUNS = 64

/** Global models of a run kept loaded (older ones are unloaded). */
export const DEFAULT_KEEP_GLOBALS = 3

/** Coordinator-side data sets (held-out, FLTrust root) a federated service keeps loaded, by spec. */
export const MAX_COORDINATOR_DATA_SETS = 4

/** How long a coordinator waits for enough clients before round 1, ms. */
export const DEFAULT_WAIT_FOR_CLIENTS_MS = 60_000

/** Local trainings a participant runs at once (virtual clients queue). */
export const DEFAULT_TRAIN_CONCURRENCY = 1

/** Run ids: lower-case letters, digits and dashes (they name directories). */
export const RUN_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/
