/**
 * Defaults of model distribution over `/edge-mesh/model/1.0.0`: the protocol
 * id, frame and model size limits, stream limits, the transfer timeout, the
 * on-disk cache bound and how many models are fetched at once. The byte
 * layout is specified in docs/protocols.md ("Model transfer").
 */

/** Protocol id of model distribution by content id. */
export const MODEL_PROTOCOL = '/edge-mesh/model/1.0.0'

/** Version byte that starts every `/edge-mesh/model/1.0.0` control frame. */
export const MODEL_WIRE_VERSION = 1

/** Largest model (model.json + weights) served, fetched or cached, bytes (256 MiB). */
export const DEFAULT_MAX_MODEL_BYTES = 256 * 1024 * 1024

/** Payload bytes of one model data frame. */
export const DEFAULT_MODEL_CHUNK_BYTES = 256 * 1024

/** Largest frame accepted on `/edge-mesh/model/1.0.0`, bytes; a data chunk must fit. */
export const MAX_MODEL_FRAME_BYTES = 1024 * 1024

/** Longest one model transfer stream may stay open, ms. */
export const DEFAULT_MODEL_TRANSFER_TIMEOUT_MS = 120_000

/** Concurrent inbound model transfer streams per connection. */
export const DEFAULT_MODEL_MAX_INBOUND_STREAMS = 4

/** Concurrent outbound model transfer streams per connection. */
export const DEFAULT_MODEL_MAX_OUTBOUND_STREAMS = 4

/** Byte bound of the on-disk model cache (1 GiB); least recently used models are evicted. */
export const DEFAULT_MODEL_CACHE_BYTES = 1024 * 1024 * 1024

/** Different models this node fetches at once to serve or run a request; one more is refused with PeerBusyError. */
export const DEFAULT_MAX_CONCURRENT_FETCHES = 2

/** Longest model name a found header or a model list carries, UTF-8 bytes (longer names are cut). */
export const MAX_MODEL_NAME_BYTES = 64

/** Most models one list answer names. */
export const MAX_LISTED_MODELS = 64

/** Peers asked at once for their model names when a name is resolved. */
export const MAX_NAME_QUERIES = 8

/** Longest wait for one peer's model list, ms. */
export const NAME_QUERY_TIMEOUT_MS = 2000

/** Most model names remembered for ids this node does not hold. */
export const MAX_REMEMBERED_NAMES = 1024
