/**
 * The benchmark input of a model, built from its input signature: the drawn
 * example frame of `examples/inputs/frames.ts` when the model takes an image
 * (`[1, h, w, 3]`, int32 pixels or float32 in [0, 1]), else a constant tensor.
 */
import { faceFrame, frameTensor, personFrame } from '../../examples/inputs/frames.js'
import type { ModelInfo, TensorData } from '../../src/model/types.js'

export function benchInputs (info: ModelInfo): TensorData[] {
  const inputs = info.inputs ?? info.inputShapes.map((shape, i) => ({ name: `input_${i}`, dtype: 'float32' as const, shape }))
  return inputs.map(({ shape, dtype }) => {
    const concrete = shape.map(d => d === -1 ? 1 : d)
    const [, h, w, channels] = concrete
    if (concrete.length === 4 && channels === 3 && h === w) {
      const frame = h === 192 ? personFrame(h) : faceFrame(h)
      return frameTensor(frame, dtype)
    }
    const n = concrete.reduce((a, b) => a * b, 1)
    return { shape: concrete, dtype, data: dtype === 'int32' ? new Int32Array(n).fill(1) : new Float32Array(n).fill(0.5) }
  })
}
