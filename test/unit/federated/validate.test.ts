import { describe, expect, it } from 'vitest'
import { validateUpdate } from '../../../src/federated/weights/validate.js'
import { constant, record } from './helpers.js'
import type { WeightRecord } from '../../../src/model/types.js'

const invalid = (fn: () => void, layer?: string): void => {
  let caught: any
  try { fn() } catch (err) { caught = err }
  expect(caught?.name).toBe('InvalidUpdateError')
  if (layer !== undefined) expect(caught.message).toContain(`"${layer}"`)
}

describe('validateUpdate', () => {
  const global = constant(0)

  it('accepts a matching update, in any layer order', () => {
    expect(() => { validateUpdate(global, [...record([1, 2, 3, 4, 5, 6])].reverse(), 3) }).not.toThrow()
  })

  it('names a missing layer', () => { invalid(() => { validateUpdate(global, [global[0]]) }, 'b') })

  it('names an extra layer', () => {
    const extra: WeightRecord = [...global, { name: 'x', shape: [1], dtype: 'float32', data: new Float32Array(1) }]
    invalid(() => { validateUpdate(global, extra) }, 'x')
  })

  it('names a layer with the wrong shape', () => {
    invalid(() => { validateUpdate(global, [{ ...global[0], shape: [4, 1] }, global[1]]) }, 'w')
  })

  it('names a layer with the wrong dtype', () => {
    invalid(() => { validateUpdate(global, [global[0], { ...global[1], dtype: 'int32', data: new Int32Array(2) }]) }, 'b')
  })

  it('names a layer whose data length does not match its shape', () => {
    invalid(() => { validateUpdate(global, [global[0], { ...global[1], data: new Float32Array(3) }]) }, 'b')
  })

  it('names a layer holding NaN or Infinity', () => {
    invalid(() => { validateUpdate(global, record([0, 0, Number.NaN, 0, 0, 0])) }, 'w')
    invalid(() => { validateUpdate(global, record([0, 0, 0, 0, 0, Infinity])) }, 'b')
  })

  it('rejects duplicate layers', () => { invalid(() => { validateUpdate(global, [...global, global[1]]) }, 'b') })

  it('rejects example counts <= 0 or fractional', () => {
    invalid(() => { validateUpdate(global, global, 0) })
    invalid(() => { validateUpdate(global, global, -5) })
    invalid(() => { validateUpdate(global, global, 1.5) })
  })
})
