/**
 * The messages of one secure aggregation round (Bonawitz et al. 2017,
 * Figure 4, with SecAgg+ neighbourhoods), in the order they are sent:
 *
 * 0. client -> server `advertise`: two X25519 public keys (c: share encryption, s: masks);
 *    server -> client `keys`: the keys of the client's neighbours that advertised (U1);
 * 1. client -> server `shares`: for each neighbour, an encrypted message holding
 *    Shamir shares of the client's self-mask seed b and its mask secret key s_sk;
 *    server -> client `inbox`: the ciphertexts addressed to the client from clients in U2;
 * 2. client -> server `masked`: its encoded weighted update plus self mask and pairwise masks;
 *    server -> client `unmask-request`: who sent a masked input (U3) and who dropped (U2 \ U3);
 * 3. client -> server `unmask`: b shares of surviving neighbours, s_sk shares of dropped ones.
 */

/** Settings every participant of a round shares. */
export interface SecAggConfig {
  /** Client ids, integers >= 1 (also the Shamir share points). */
  ids: number[]
  /** Neighbours per client (SecAgg+); `ids.length - 1` is the complete graph. */
  degree: number
  /** Shares needed to recover a secret. */
  threshold: number
  /** Public seed of the neighbourhood graph. */
  graphSeed: number
  /** Values per update (without the appended weight). */
  vectorLength: number
  /** Fixed-point encoding. */
  bound: number
  maxTotalWeight: number
  /**
   * Int8 in the mask ring (`ring.ts`): quantize to levels of bound/127, mask
   * with weight 1 in Z_{2^ringBits}. Absent: fixed point in Z_{2^32}.
   */
  ringBits?: number
}

export interface AdvertiseMessage { type: 'advertise', from: number, cPk: Uint8Array, sPk: Uint8Array }
export interface KeysMessage { type: 'keys', to: number, keys: Array<{ id: number, cPk: Uint8Array, sPk: Uint8Array }> }
export interface SharesMessage { type: 'shares', from: number, shares: Array<{ to: number, ciphertext: Uint8Array }> }
export interface InboxMessage { type: 'inbox', to: number, shares: Array<{ from: number, ciphertext: Uint8Array }> }
export interface MaskedMessage { type: 'masked', from: number, vector: Uint32Array }
export interface UnmaskRequestMessage { type: 'unmask-request', survivors: number[], dropped: number[] }
export interface UnmaskMessage { type: 'unmask', from: number, selfShares: Array<{ of: number, y: bigint }>, keyShares: Array<{ of: number, y: bigint }> }

/** Bytes of a message as it would travel (keys 32 B, ciphertexts as they are, vectors `ringBits` (32) bits per value packed, shares 66 B, ids 4 B). */
export function messageBytes (m: AdvertiseMessage | KeysMessage | SharesMessage | InboxMessage | MaskedMessage | UnmaskRequestMessage | UnmaskMessage, ringBits = 32): number {
  switch (m.type) {
    case 'advertise': return 4 + 64
    case 'keys': return 4 + m.keys.length * (4 + 64)
    case 'shares': return 4 + m.shares.reduce((n, s) => n + 4 + s.ciphertext.length, 0)
    case 'inbox': return 4 + m.shares.reduce((n, s) => n + 4 + s.ciphertext.length, 0)
    case 'masked': return 4 + 4 * Math.ceil(m.vector.length * ringBits / 32)
    case 'unmask-request': return 4 * (m.survivors.length + m.dropped.length) + 8
    case 'unmask': return 4 + (m.selfShares.length + m.keyShares.length) * (4 + 66)
  }
}
