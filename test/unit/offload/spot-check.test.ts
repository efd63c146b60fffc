import { describe, expect, it } from 'vitest'
import { mulberry32 as seededRandom } from '../../../src/model/random.js'
import { compareOutputs, shouldSpotCheck } from '../../../src/offload/spot-check.js'
import { SpotChecker } from '../../../src/offload/verifier.js'
import type { TensorData } from '../../../src/model/types.js'
import type { InferResult } from '../../../src/offload/types.js'

const probs = (...values: number[]): TensorData => ({ shape: [1, values.length], dtype: 'float32', data: Float32Array.from(values) })

describe('spot-check sampling', () => {
  it('never checks at rate 0 and always at rate 1', () => {
    const random = seededRandom(1)
    for (let i = 0; i < 100; i++) {
      expect(shouldSpotCheck(0, random)).toBe(false)
      expect(shouldSpotCheck(1, random)).toBe(true)
    }
  })

  it('checks about `rate` of the results, the same ones for the same seed', () => {
    const draw = (seed: number): boolean[] => { const r = seededRandom(seed); return Array.from({ length: 20_000 }, () => shouldSpotCheck(0.1, r)) }
    const a = draw(7)
    expect(draw(7)).toEqual(a)
    const share = a.filter(Boolean).length / a.length
    expect(share).toBeGreaterThan(0.09)
    expect(share).toBeLessThan(0.11)
  })
})

describe('comparing two answers', () => {
  it('accepts float differences within the tolerance and refuses larger ones', () => {
    expect(compareOutputs([probs(0.1, 0.9)], [probs(0.10005, 0.89995)], 1e-4).same).toBe(true)
    const far = compareOutputs([probs(0.9, 0.1)], [probs(0.1, 0.9)], 1e-4)
    expect(far.same).toBe(false)
    expect(far.maxAbsDiff).toBeCloseTo(0.8)
  })

  it('refuses a different shape, dtype, count or a NaN against a number', () => {
    expect(compareOutputs([probs(1, 2, 3)], [probs(1, 2)], 1).same).toBe(false)
    expect(compareOutputs([{ shape: [1, 2], dtype: 'int32', data: Int32Array.from([1, 2]) }], [probs(1, 2)], 1).same).toBe(false)
    expect(compareOutputs([], [probs(1)], 1).same).toBe(false)
    expect(compareOutputs([probs(NaN)], [probs(1)], 1).same).toBe(false)
    expect(compareOutputs([probs(NaN)], [probs(NaN)], 0).same).toBe(true)
  })

  it('compares int32 outputs exactly', () => {
    const ints = (...v: number[]): TensorData => ({ shape: [v.length], dtype: 'int32', data: Int32Array.from(v) })
    expect(compareOutputs([ints(3)], [ints(3)], 1).same).toBe(true)
    expect(compareOutputs([ints(3)], [ints(4)], 1).same).toBe(false)
  })
})

describe('spot checker', () => {
  const honest = [probs(0.1, 0.9)]
  const result = (servedBy: string, outputs: TensorData[]): InferResult => ({
    outputs, servedBy, attempts: 1, attemptLog: [], latencyMs: { totalMs: 1, queueMs: 0, computeMs: 1, overheadMs: 0 }
  })
  const checker = (init: { hasModel: boolean, second?: (exclude: string[]) => { outputs: TensorData[], servedBy: string } }) => {
    const banned: string[] = []
    const spot = new SpotChecker({
      selfId: 'me',
      rate: 1,
      tolerance: 1e-4,
      random: seededRandom(1),
      hasModel: () => init.hasModel,
      runLocal: async () => honest,
      ask: async (_m, _i, options) => {
        if (options.prefer === 'local') return { outputs: honest, servedBy: 'me' }
        if (init.second == null) throw new Error('no second peer')
        return init.second(options.exclude ?? [])
      },
      ban: (peer) => { banned.push(peer) },
      log: Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false, newScope: () => { throw new Error('unused') } }) as any
    })
    return { spot, banned }
  }

  it('returns a matching answer as it is', async () => {
    const { spot, banned } = checker({ hasModel: true })
    const out = await spot.check('m', [], result('peer', honest), { deadlineMs: 1000 })
    expect(out.spotCheck).toBe('match')
    expect(banned).toEqual([])
    expect(spot.stats()).toEqual({ checked: 1, mismatches: 0, bans: 0, failed: 0 })
  })

  it('bans a liar caught by a local re-run and returns the correct outputs', async () => {
    const { spot, banned } = checker({ hasModel: true })
    const out = await spot.check('m', [], result('liar', [probs(0.9, 0.1)]), { deadlineMs: 1000 })
    expect(out).toMatchObject({ spotCheck: 'mismatch', servedBy: 'me', outputs: honest })
    expect(banned).toEqual(['liar'])
  })

  it('without the model asks a second peer, and when they disagree bans only the one that differs from its own run', async () => {
    const { spot, banned } = checker({ hasModel: false, second: (exclude) => { expect(exclude).toEqual(['liar']); return { outputs: honest, servedBy: 'honest' } } })
    const out = await spot.check('m', [], result('liar', [probs(0.9, 0.1)]), { deadlineMs: 1000 })
    expect(out.outputs).toEqual(honest)
    expect(banned).toEqual(['liar'])
  })

  it('does not convict an honest peer contradicted by a liar', async () => {
    const { spot, banned } = checker({ hasModel: false, second: () => ({ outputs: [probs(0.5, 0.5)], servedBy: 'liar' }) })
    await spot.check('m', [], result('honest', honest), { deadlineMs: 1000 })
    expect(banned).toEqual(['liar'])
  })

  it('returns the answer unchecked and counts a failure when no reference is available', async () => {
    const { spot, banned } = checker({ hasModel: false })
    const out = await spot.check('m', [], result('peer', honest), { deadlineMs: 1000 })
    expect(out.spotCheck).toBe('failed')
    expect(banned).toEqual([])
    expect(spot.stats().failed).toBe(1)
  })

  it('never checks what this node served itself', async () => {
    const { spot } = checker({ hasModel: true })
    expect((await spot.check('m', [], result('me', honest), { deadlineMs: 1000 })).spotCheck).toBeUndefined()
  })
})
