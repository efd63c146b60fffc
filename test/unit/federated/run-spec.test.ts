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
    expect(() => parseRunSpec({ byzantine: { attack: 'signflip' } })).toThrow(/byzantine/)
  })

  it('refers to data by dataset name or built-in mnist: spec, never by path', () => {
    expect(parseRunSpec({ evalData: 'holdout', rootData: 'mnist:0/80' })).toMatchObject({ evalData: 'holdout', rootData: 'mnist:0/80' })
    for (const path of ['/etc', './data', '../x', 'C:\\data', 'mnist:test,/etc', 'a b']) {
      expect(() => parseRunSpec({ evalData: path })).toThrow(expect.objectContaining({ name: 'InvalidConfigError' }))
    }
    expect(() => parseRunSpec({ strategy: 'fltrust', rootData: '/home/user/secret' })).toThrow(/rootData/)
  })

  it('FLTrust needs one root data spec and a known weighting', () => {
    expect(() => parseRunSpec({ strategy: 'fltrust' })).toThrow(/rootData/)
    expect(() => parseRunSpec({ strategy: 'fltrust', rootData: 'mnist:0/80,mnist:1/80' })).toThrow(/one data spec/)
    expect(() => parseRunSpec({ strategy: 'fltrust', rootData: 'mnist:0/80', trustWeighting: 'vibes' })).toThrow(/trustWeighting/)
    expect(parseRunSpec({ strategy: 'fltrust', rootData: 'mnist:0/80:seed=1', trustWeighting: 'sign' }))
      .toEqual({ rounds: 5, strategy: 'fltrust', rootData: 'mnist:0/80:seed=1', trustWeighting: 'sign' })
  })

  it('secure aggregation: true or bounded settings, fedavg only, DP only central', () => {
    expect(parseRunSpec({ secureAggregation: true })).toMatchObject({ secureAggregation: {} })
    expect(parseRunSpec({ secureAggregation: { threshold: 3, neighbours: 6, stageTimeoutMs: 5000 } }).secureAggregation).toEqual({ threshold: 3, neighbours: 6, stageTimeoutMs: 5000 })
    expect(parseRunSpec({ secureAggregation: false }).secureAggregation).toBeUndefined()
    for (const bad of [{ threshold: 0 }, { neighbours: 33 }, { threshold: 5, neighbours: 4 }, { bound: -1 }, { stageTimeoutMs: 10 }, [1], 'yes']) {
      expect(() => parseRunSpec({ secureAggregation: bad })).toThrow(/secureAggregation/)
    }
    expect(() => parseRunSpec({ strategy: 'krum', secureAggregation: {} })).toThrow(expect.objectContaining({ name: 'InvalidConfigError', message: expect.stringMatching(/secureAggregation/) }))
    expect(parseRunSpec({ secureAggregation: {}, dp: { mode: 'central' } }).dp?.mode).toBe('central')
    expect(() => parseRunSpec({ secureAggregation: {}, base: 'nsfwjs:mobilenet_v2', head: { classes: 2 } })).toThrow(/secureAggregation/)
  })
})
