/**
 * A client's training seed comes from the round's seed and the client's own
 * data, never from its peer id or its place in a list: peer ids are new on
 * every run of a mesh and list positions follow them, so seeds taken from
 * them made mesh experiments unrepeatable (issue #13). The same shard gets
 * the same seed on any node and in simulation, so a mesh run and a simulated
 * run with the same settings train every client the same way.
 */
import { deriveSeed } from './rng.js'
import type { Dataset } from '../model/types.js'

/** A 32-bit FNV-1a fingerprint of a data set's labels and features (its content, not where it lives). */
export function datasetKey (data: Pick<Dataset, 'x' | 'y' | 'count'>): number {
  let h = 2166136261 ^ data.count
  const mix = (words: Uint32Array): void => {
    for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 16777619)
  }
  mix(new Uint32Array(data.y.buffer, data.y.byteOffset, data.y.length))
  mix(new Uint32Array(data.x.buffer, data.x.byteOffset, data.x.length))
  return h >>> 0
}

/** The seed one client trains with: the round's seed (`FederatedTrainConfig.seed`) mixed with its data's key. */
export function clientTrainingSeed (roundSeed: number, dataKey: number): number {
  return deriveSeed(roundSeed, dataKey)
}

/** Data keys computed once per data set object (a participant or grid holds one). */
export class DatasetKeys {
  private readonly keys = new WeakMap<object, number>()

  of (data: Dataset): number {
    let key = this.keys.get(data)
    if (key === undefined) {
      key = datasetKey(data)
      this.keys.set(data, key)
    }
    return key
  }
}
