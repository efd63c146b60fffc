/**
 * Limits shared by the binary frames of `/edge-mesh/infer/1.0.0` and
 * `/edge-mesh/model/1.0.0` (docs/protocols.md).
 */

/** Longest model id on the wire, UTF-8 bytes. */
export const MAX_MODEL_ID_BYTES = 128

/** Longest error message on the wire, UTF-8 bytes; longer messages are truncated. */
export const MAX_ERROR_MESSAGE_BYTES = 1024
