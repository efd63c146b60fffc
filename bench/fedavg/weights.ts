/**
 * The synthetic weight records of the benchmark: the layers of
 * `MODEL_LAYERS`, filled with deterministic values (a seeded sine), so every
 * process builds the same bytes without sending them around.
 */
import { MODEL_LAYERS } from './constants.js'
import type { WeightRecord } from '../../src/model/types.js'

/** Parameters in the benchmark model. */
export const MODEL_PARAMETERS = MODEL_LAYERS.reduce((sum, l) => sum + l.shape.reduce((a, b) => a * b, 1), 0)

/** Bytes of weight data in the benchmark model (float32). */
export const MODEL_DATA_BYTES = MODEL_PARAMETERS * 4

/** A record of the benchmark model's layers whose values depend on `seed`. */
export function syntheticRecord (seed: number): WeightRecord {
  return MODEL_LAYERS.map(({ name, shape }) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1))
    for (let i = 0; i < data.length; i++) data[i] = 0.05 * Math.sin(0.001 * i + seed)
    return { name, shape: [...shape], dtype: 'float32' as const, data }
  })
}
