/** Defaults of the control API. */

/** Largest request body accepted, bytes (an inference request with a large batch fits). */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
/** Time a request may take to arrive in full, ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
/**
 * Request-body bytes held at once across all requests: two bodies of the
 * largest size. A parsed JSON body costs several times its size, so this
 * bounds what concurrent uploads can add to the node's memory (~ 200 MB).
 */
export const DEFAULT_MAX_BODY_BYTES_IN_FLIGHT = 2 * DEFAULT_MAX_BODY_BYTES
