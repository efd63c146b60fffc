/** Defaults of the control API. */

/** Largest request body accepted, bytes (an inference request with a large batch fits). */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
/** Time a request may take to arrive in full, ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
