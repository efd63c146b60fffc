/**
 * One client's side of a secure aggregation round, as a state machine that
 * refuses steps out of order: advertise -> shareKeys -> maskInput -> unmask.
 * It never sends its update unmasked, and it never reveals both the
 * self-mask share and the key share of the same neighbour.
 */
import { ProtocolError } from '../../../errors.js'
import { bigintToBytes, bytesToBigint, SHARE_BYTES, split } from './shamir.js'
import { expandMask, keyPair, maskSeed, openShare, sealShare, shareKey } from './crypto.js'
import { addInto, encodeWeighted } from './fixed-point.js'
import { neighbourhoods } from './graph.js'
import { quantizeInt8, reduceInto } from './ring.js'
import type { KeyPair, RandomSource } from './crypto.js'
import type { AdvertiseMessage, InboxMessage, KeysMessage, MaskedMessage, SecAggConfig, SharesMessage, UnmaskMessage, UnmaskRequestMessage } from './messages.js'

type Phase = 'new' | 'advertised' | 'shared' | 'masked' | 'done'

/** Share plaintext: from u32 | to u32 | b share (66 B) | s_sk share (66 B). */
const PLAINTEXT_BYTES = 8 + 2 * SHARE_BYTES

export class SecAggClient {
  private phase: Phase = 'new'
  private readonly c: KeyPair
  private readonly s: KeyPair
  private readonly selfSeed: Uint8Array
  private readonly neighbours: Set<number>
  private peerKeys = new Map<number, { cPk: Uint8Array, sPk: Uint8Array }>()
  /** Shares this client holds, by the neighbour they belong to (U2 as this client sees it). */
  private held = new Map<number, { b: bigint, sk: bigint }>()

  constructor (readonly id: number, private readonly config: SecAggConfig, private readonly random: RandomSource) {
    this.c = keyPair(random)
    this.s = keyPair(random)
    this.selfSeed = random(32)
    this.neighbours = new Set(neighbourhoods(config.ids, config.degree, config.graphSeed).get(id) ?? [])
  }

  /** Bits per value of the masked vector (32 unless int8 in the ring). */
  get ringBits (): number {
    return this.config.ringBits ?? 32
  }

  private step (from: Phase, to: Phase): void {
    if (this.phase !== from) throw new ProtocolError(`secagg client ${this.id}: expected phase ${from}, in ${this.phase}`)
    this.phase = to
  }

  /** Round 0: the two public keys. */
  advertise (): AdvertiseMessage {
    this.step('new', 'advertised')
    return { type: 'advertise', from: this.id, cPk: this.c.publicKey, sPk: this.s.publicKey }
  }

  /** Round 1: Shamir-share b and s_sk among the neighbours that advertised, each share encrypted for its holder. */
  shareKeys (m: KeysMessage): SharesMessage {
    this.step('advertised', 'shared')
    this.peerKeys = new Map(m.keys.filter((k) => this.neighbours.has(k.id)).map((k) => [k.id, { cPk: k.cPk, sPk: k.sPk }]))
    const holders = [...this.peerKeys.keys()]
    if (holders.length < this.config.threshold) throw new ProtocolError(`secagg client ${this.id}: ${holders.length} neighbours left, threshold ${this.config.threshold}`)
    const bShares = split(bytesToBigint(this.selfSeed), this.config.threshold, holders, this.random)
    const skShares = split(bytesToBigint(this.s.secretKey), this.config.threshold, holders, this.random)
    const shares = holders.map((to, i) => {
      const plain = new Uint8Array(PLAINTEXT_BYTES)
      const view = new DataView(plain.buffer)
      view.setUint32(0, this.id)
      view.setUint32(4, to)
      plain.set(bigintToBytes(bShares[i].y, SHARE_BYTES), 8)
      plain.set(bigintToBytes(skShares[i].y, SHARE_BYTES), 8 + SHARE_BYTES)
      const key = shareKey(this.c.secretKey, (this.peerKeys.get(to) as { cPk: Uint8Array }).cPk)
      return { to, ciphertext: sealShare(key, this.id, to, plain) }
    })
    return { type: 'shares', from: this.id, shares }
  }

  private openInbox (m: InboxMessage): void {
    for (const { from, ciphertext } of m.shares) {
      const peer = this.peerKeys.get(from)
      if (peer === undefined) throw new ProtocolError(`secagg client ${this.id}: share from non-neighbour ${from}`)
      const plain = openShare(shareKey(this.c.secretKey, peer.cPk), from, this.id, ciphertext)
      const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength)
      if (plain.length !== PLAINTEXT_BYTES || view.getUint32(0) !== from || view.getUint32(4) !== this.id) throw new ProtocolError(`secagg client ${this.id}: malformed share from ${from}`)
      this.held.set(from, { b: bytesToBigint(plain.subarray(8, 8 + SHARE_BYTES)), sk: bytesToBigint(plain.subarray(8 + SHARE_BYTES)) })
    }
  }

  /**
   * Round 2: encode `weight * x` and `weight`, add the self mask and, for each
   * neighbour v in U2, +PRG(s_uv) when v > u and -PRG(s_uv) when v < u.
   * With `ringBits` (int8 in the ring) the encoding is `x`'s stochastic int8
   * levels and weight 1, and the result is reduced mod 2^ringBits.
   */
  maskInput (m: InboxMessage, x: ArrayLike<number>, weight: number): MaskedMessage {
    this.step('shared', 'masked')
    if (x.length !== this.config.vectorLength) throw new ProtocolError(`secagg client ${this.id}: update has ${x.length} values, the round ${this.config.vectorLength}`)
    this.openInbox(m)
    if (this.config.ringBits !== undefined && weight !== 1) throw new ProtocolError(`secagg client ${this.id}: int8 in the ring masks weight 1, got ${weight}`)
    const y = this.config.ringBits === undefined ? encodeWeighted(x, weight, this.config) : quantizeInt8(x, this.config.bound, this.random)
    addInto(y, expandMask(this.selfSeed, y.length))
    for (const v of this.held.keys()) {
      const seed = maskSeed(this.s.secretKey, (this.peerKeys.get(v) as { sPk: Uint8Array }).sPk)
      addInto(y, expandMask(seed, y.length), v > this.id ? 1 : -1)
    }
    if (this.config.ringBits !== undefined) reduceInto(y, this.config.ringBits)
    return { type: 'masked', from: this.id, vector: y }
  }

  /** Round 3: for each neighbour in U2, its b share if it survived or its s_sk share if it dropped; never both. */
  unmask (m: UnmaskRequestMessage): UnmaskMessage {
    this.step('masked', 'done')
    const survivors = new Set(m.survivors)
    const dropped = new Set(m.dropped)
    if (m.survivors.some((id) => dropped.has(id))) throw new ProtocolError(`secagg client ${this.id}: a client is listed as both survivor and dropped`)
    if (!survivors.has(this.id)) throw new ProtocolError(`secagg client ${this.id}: not listed among the survivors`)
    if (survivors.size < this.config.threshold) throw new ProtocolError(`secagg client ${this.id}: ${survivors.size} survivors, threshold ${this.config.threshold}`)
    const selfShares: UnmaskMessage['selfShares'] = []
    const keyShares: UnmaskMessage['keyShares'] = []
    for (const [u, share] of this.held) {
      if (survivors.has(u)) selfShares.push({ of: u, y: share.b })
      else if (dropped.has(u)) keyShares.push({ of: u, y: share.sk })
      else throw new ProtocolError(`secagg client ${this.id}: neighbour ${u} is neither survivor nor dropped`)
    }
    return { type: 'unmask', from: this.id, selfShares, keyShares }
  }
}
