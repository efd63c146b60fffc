import { describe, expect, it } from 'vitest'
import { parseRunSpec } from '../../../src/federated/mesh/runs.js'

describe('run spec (POST /federated/runs)', () => {
  it('fills the defaults it owns and drops absent fields', () => {
    expect(parseRunSpec({})).toEqual({ rounds: 5, strategy: 'fedavg' })
    expect(parseRunSpec({ rounds: 3, strategy: 'krum', krumM: 2 })).toEqual({ rounds: 3, strategy: 'krum', krumM: 2 })
  })

  it('names the field of every bad value', () => {
    expect(() => parseRunSpec([])).toThrow(/body/)
    expect(() => parseRunSpec({ rounds: 0 })).toThrow(/rounds/)
    expect(() => parseRunSpec({ strategy: 'nope' })).toThrow(/strategy/)
    expect(() => parseRunSpec({ model: 'abc' })).toThrow(/model/)
    expect(() => parseRunSpec({ evalData: 'mnist:9/4' })).toThrow(/mnist:9\/4/)
    expect(() => parseRunSpec({ byzantine: { attack: 'telepathy' } })).toThrow(/byzantine.attack/)
  })

  it('FLTrust needs one root data spec and a known weighting', () => {
    expect(() => parseRunSpec({ strategy: 'fltrust' })).toThrow(/rootData/)
    expect(() => parseRunSpec({ strategy: 'fltrust', rootData: 'mnist:0/80,mnist:1/80' })).toThrow(/one data spec/)
    expect(() => parseRunSpec({ strategy: 'fltrust', rootData: 'mnist:0/80', trustWeighting: 'vibes' })).toThrow(/trustWeighting/)
    expect(parseRunSpec({ strategy: 'fltrust', rootData: 'mnist:0/80:seed=1', trustWeighting: 'sign' }))
      .toEqual({ rounds: 5, strategy: 'fltrust', rootData: 'mnist:0/80:seed=1', trustWeighting: 'sign' })
  })
})
