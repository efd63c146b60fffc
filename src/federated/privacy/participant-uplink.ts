/**
 * The uplink state of a mesh participant: one `ClientUplink` (its top-k
 * residual and velocity) per (coordinator, run, virtual client), at most
 * `maxStates` of them (the least recently used is dropped, and with it the
 * residual it held: those values are never delivered). Local DP noise and
 * int8 rounding draw from the operating system's CSPRNG, never from a seed
 * the coordinator chose: a coordinator that knew the noise could remove it.
 */
import { randomFillSync } from 'node:crypto'
import { ClientUplink } from './uplink.js'
import { uplinkFromAnnounce } from './uplink-wire.js'
import type { AnnounceUplinkFields } from './uplink-wire.js'
import { DEFAULT_MAX_UPLINK_STATES } from './constants.js'
import type { EncodedUpdate, UplinkRandom } from './uplink.js'
import type { AnnounceMessage } from '../mesh/protocol/messages.js'
import type { WeightRecord } from '../../model/types.js'

/** Uniform and normal draws from the OS CSPRNG (53-bit uniforms, Box-Muller normals), read 4 KiB at a time. */
export function cryptoRandom (): UplinkRandom {
  const words = new Uint32Array(1024)
  let at = words.length
  const word = (): number => {
    if (at === words.length) {
      randomFillSync(words)
      at = 0
    }
    return words[at++]
  }
  const next = (): number => ((word() >>> 5) * 67108864 + (word() >>> 6)) / 9007199254740992
  return {
    next,
    normal: () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next())
  }
}

/** The participant's uplinks, bounded. */
export class ParticipantUplinks {
  private readonly states = new Map<string, ClientUplink>()
  private readonly random = cryptoRandom()

  constructor (private readonly maxStates = DEFAULT_MAX_UPLINK_STATES) {}

  /** Encode the update `a` asked for (InvalidMessageError when its uplink fields contradict each other). */
  encode (coordinator: string, a: Pick<AnnounceMessage, 'runId' | 'clientIndex' | 'round'> & AnnounceUplinkFields, global: WeightRecord, weights: WeightRecord): EncodedUpdate {
    const uplink = uplinkFromAnnounce(a)
    if (uplink.compression.scheme !== 'topk') return new ClientUplink().encode(global, weights, uplink, this.random)
    return this.stateOf(`${coordinator}/${a.runId}/${a.clientIndex}`).encode(global, weights, uplink, this.random)
  }

  /** Uplink states held (for tests). */
  get size (): number {
    return this.states.size
  }

  private stateOf (key: string): ClientUplink {
    const state = this.states.get(key) ?? new ClientUplink()
    this.states.delete(key)
    this.states.set(key, state)
    while (this.states.size > this.maxStates) this.states.delete(this.states.keys().next().value as string)
    return state
  }
}
