/**
 * Documented defaults and bounds of secure aggregation over the mesh
 * (federated message types 20-27, `src/federated/mesh/protocol/secagg-messages.ts`).
 * Every size a peer sends in a secagg message is bounded by one of these.
 */
import { SHARE_BYTES } from './shamir.js'

/** Clients of one secure round (ids 1..n, also Shamir share points). */
export const MAX_SECAGG_CLIENTS = 1024

/** Neighbours of one client (SecAgg+ degree): bounds every per-neighbour list on the wire. */
export const MAX_SECAGG_NEIGHBOURS = 32

/** Bytes of an X25519 public key. */
export const SECAGG_KEY_BYTES = 32

/** Bytes of a share plaintext: from u32 | to u32 | b share | s_sk share. */
export const SECAGG_SHARE_PLAINTEXT_BYTES = 8 + 2 * SHARE_BYTES

/** Bytes of a share ciphertext (ChaCha20-Poly1305 adds a 16-byte tag). */
export const SECAGG_SHARE_CIPHERTEXT_BYTES = SECAGG_SHARE_PLAINTEXT_BYTES + 16

/** Longest the key advertisement, key sharing and unmasking stages may each take, ms (non-responders are dropped). */
export const DEFAULT_SECAGG_STAGE_TIMEOUT_MS = 10_000

/** Largest `maxTotalWeight` a round may ask for (2^24: with bound 1 it still leaves 6 fractional bits). */
export const MAX_SECAGG_TOTAL_WEIGHT = 2 ** 24

/** Largest clamp bound of the fixed-point encoding. */
export const MAX_SECAGG_BOUND = 1e6

/** Secure rounds a participant keeps open at once, over all coordinators (a new one beyond is refused with LimitExceededError). */
export const MAX_SECAGG_SESSIONS = 64
