/**
 * Small fixtures for the federated unit tests: hand-made weight records,
 * updates and a fake runtime/grid that "train" by arithmetic.
 */
import type { ClientUpdate } from '../../../src/federated/grid.js'
import type { Dataset, ModelRuntime, WeightRecord } from '../../../src/model/types.js'

/** A two-layer record: `w` (2x2) and `b` (2), filled from `values` (6 numbers). */
export function record (values: number[]): WeightRecord {
  return [
    { name: 'w', shape: [2, 2], dtype: 'float32', data: Float32Array.from(values.slice(0, 4)) },
    { name: 'b', shape: [2], dtype: 'float32', data: Float32Array.from(values.slice(4, 6)) }
  ]
}

/** A record with every value equal to `v`. */
export function constant (v: number): WeightRecord {
  return record(new Array(6).fill(v))
}

export function update (clientId: string, weights: WeightRecord, numExamples = 10): ClientUpdate {
  return { clientId, weights, numExamples, metrics: { loss: 0, accuracy: 0, trainMs: 1 } }
}

/** Flatten a record's values in layer order. */
export function flat (r: WeightRecord): number[] {
  return r.flatMap((t) => Array.from(t.data))
}

/**
 * A fake runtime whose "training" moves every weight halfway towards the mean
 * of the client's features, and whose registered ids count up. Enough to
 * drive `runFederated` and the memory grid without TensorFlow.js.
 */
export function fakeRuntime (): {
  train: ModelRuntime['train']
  createFromWeights: ModelRuntime['createFromWeights']
  unload: ModelRuntime['unload']
  registered: WeightRecord[]
  unloaded: string[]
} {
  const registered: WeightRecord[] = []
  const unloaded: string[] = []
  return {
    registered,
    unloaded,
    async train (_baseId, weights, data, config) {
      config?.signal?.throwIfAborted()
      let mean = 0
      for (const v of data.x) mean += v
      mean /= data.x.length
      return {
        weights: weights.map((t) => ({ ...t, data: Float32Array.from(t.data, (v) => v + 0.5 * (mean - v)) })),
        numExamples: data.count,
        loss: 0,
        accuracy: 0,
        trainMs: 1
      }
    },
    async createFromWeights (_baseId, weights) {
      registered.push(weights)
      return { id: `global-${registered.length}`, name: 'g', inputShapes: [], outputShapes: [], parameters: 6, sizeBytes: 24 }
    },
    unload (id) { unloaded.push(id) }
  }
}

/** A data set of `count` examples whose features all equal `value`. */
export function dataset (count: number, value: number): Dataset {
  return { x: new Float32Array(count * 2).fill(value), y: new Int32Array(count), featureShape: [2], numClasses: 2, count }
}
