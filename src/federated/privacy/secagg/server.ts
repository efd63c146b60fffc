/**
 * The server's side of a secure aggregation round. It routes keys and
 * encrypted shares, collects masked inputs, and with the shares of the
 * survivors removes the self masks of the survivors and the pairwise masks
 * left by clients that dropped after sharing their keys. What it holds of any
 * one client is that client's masked vector: uniformly random on its own.
 */
import { ProtocolError, SecAggThresholdError } from '../../../errors.js'
import { bigintToBytes, combine } from './shamir.js'
import { expandMask, maskSeed, publicKeyOf } from './crypto.js'
import { addInto, decodeWeightedMean } from './fixed-point.js'
import { neighbourhoods } from './graph.js'
import { decodeInt8Mean, reduceInto } from './ring.js'
import type { AdvertiseMessage, InboxMessage, KeysMessage, MaskedMessage, SecAggConfig, SharesMessage, UnmaskMessage, UnmaskRequestMessage } from './messages.js'
import type { Share } from './shamir.js'

type Phase = 'keys' | 'shares' | 'masked' | 'unmask' | 'done'

export interface SecAggResult {
  /** Weighted mean of the survivors' updates. */
  mean: Float32Array
  /** Sum of the survivors' weights. */
  totalWeight: number
  /** Clients whose updates are in the sum (U3). */
  survivors: number[]
  /** Clients that shared keys but sent no masked input (U2 \ U3). */
  dropped: number[]
}

export class SecAggServer {
  private phase: Phase = 'keys'
  private readonly graph: Map<number, number[]>
  private readonly keys = new Map<number, { cPk: Uint8Array, sPk: Uint8Array }>()
  private readonly shares = new Map<number, SharesMessage>()
  /** The masked vectors received, by client (exposed for tests that check they look random). */
  readonly masked = new Map<number, Uint32Array>()
  private readonly unmasks = new Map<number, UnmaskMessage>()
  private survivors: number[] = []
  private dropped: number[] = []

  constructor (private readonly config: SecAggConfig) {
    this.graph = neighbourhoods(config.ids, config.degree, config.graphSeed)
  }

  private expect (phase: Phase, from: number): void {
    if (this.phase !== phase) throw new ProtocolError(`secagg server: message of client ${from} in phase ${this.phase}, expected ${phase}`)
    if (!this.graph.has(from)) throw new ProtocolError(`secagg server: unknown client ${from}`)
  }

  receive (m: AdvertiseMessage | SharesMessage | MaskedMessage | UnmaskMessage): void {
    const table = { advertise: ['keys', this.keys], shares: ['shares', this.shares], masked: ['masked', this.masked], unmask: ['unmask', this.unmasks] } as const
    const [phase, map] = table[m.type]
    this.expect(phase, m.from)
    if (map.has(m.from)) throw new ProtocolError(`secagg server: second ${m.type} from client ${m.from}`)
    if (m.type === 'advertise') this.keys.set(m.from, { cPk: m.cPk, sPk: m.sPk })
    else if (m.type === 'shares') this.shares.set(m.from, m)
    else if (m.type === 'masked') {
      if (m.vector.length !== this.config.vectorLength + 1) throw new ProtocolError(`secagg server: masked input of ${m.vector.length} values`)
      const bits = this.config.ringBits
      if (bits !== undefined && bits < 32 && m.vector.some((w) => w >= 2 ** bits)) throw new ProtocolError(`secagg server: masked input of client ${m.from} has values beyond ${bits} bits`)
      this.masked.set(m.from, m.vector)
    } else this.unmasks.set(m.from, m)
  }

  /** End of round 0: each advertising client gets its advertising neighbours' keys. */
  keyMessages (): KeysMessage[] {
    this.phase = 'shares'
    return [...this.keys.keys()].map((to) => ({
      type: 'keys', to, keys: (this.graph.get(to) ?? []).filter((v) => this.keys.has(v)).map((id) => ({ id, ...(this.keys.get(id) as { cPk: Uint8Array, sPk: Uint8Array }) }))
    }))
  }

  /** End of round 1: each client in U2 gets the ciphertexts addressed to it by other clients in U2. */
  inboxMessages (): InboxMessage[] {
    this.phase = 'masked'
    const u2 = [...this.shares.keys()]
    return u2.map((to) => ({
      type: 'inbox', to, shares: u2.flatMap((from) => (this.shares.get(from) as SharesMessage).shares.filter((s) => s.to === to).map((s) => ({ from, ciphertext: s.ciphertext })))
    }))
  }

  /** End of round 2: U3 is who sent a masked input; everyone else in U2 dropped. */
  unmaskRequest (): UnmaskRequestMessage {
    this.phase = 'unmask'
    this.survivors = [...this.masked.keys()].sort((a, b) => a - b)
    this.dropped = [...this.shares.keys()].filter((id) => !this.masked.has(id)).sort((a, b) => a - b)
    if (this.survivors.length < this.config.threshold) throw new SecAggThresholdError(`secagg server: ${this.survivors.length} masked inputs, threshold ${this.config.threshold}`)
    return { type: 'unmask-request', survivors: this.survivors, dropped: this.dropped }
  }

  private recover (of: number, kind: 'selfShares' | 'keyShares'): Uint8Array {
    const shares: Share[] = []
    for (const m of this.unmasks.values()) for (const s of m[kind]) if (s.of === of) shares.push({ x: m.from, y: s.y })
    if (shares.length < this.config.threshold) throw new SecAggThresholdError(`secagg server: ${shares.length} shares of client ${of}, threshold ${this.config.threshold}`)
    return bigintToBytes(combine(shares.slice(0, this.config.threshold)), 32)
  }

  /** End of round 3: remove the masks and decode the weighted mean of the survivors. */
  finish (): SecAggResult {
    if (this.phase !== 'unmask') throw new ProtocolError(`secagg server: finish in phase ${this.phase}`)
    this.phase = 'done'
    const u2 = new Set(this.shares.keys())
    const sum = new Uint32Array(this.config.vectorLength + 1)
    for (const u of this.survivors) addInto(sum, this.masked.get(u) as Uint32Array)
    for (const u of this.survivors) addInto(sum, expandMask(this.recover(u, 'selfShares'), sum.length), -1)
    for (const u of this.dropped) {
      const sk = this.recover(u, 'keyShares')
      const sPk = (this.keys.get(u) as { sPk: Uint8Array }).sPk
      if (!publicKeyOf(sk).every((b, i) => b === sPk[i])) throw new ProtocolError(`secagg server: recovered key of client ${u} does not match its public key`)
      for (const v of this.graph.get(u) ?? []) {
        if (!u2.has(v) || !this.masked.has(v)) continue
        // v added +PRG(s_uv) when u > v and -PRG(s_uv) when u < v: take it out again
        addInto(sum, expandMask(maskSeed(sk, (this.keys.get(v) as { sPk: Uint8Array }).sPk), sum.length), u > v ? -1 : 1)
      }
    }
    const bits = this.config.ringBits
    if (bits !== undefined) reduceInto(sum, bits)
    const decoded = bits === undefined ? decodeWeightedMean(sum, this.config) : decodeInt8Mean(sum, bits, this.config.bound)
    return { ...decoded, survivors: this.survivors, dropped: this.dropped }
  }
}
