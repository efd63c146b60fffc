import { describe, expect, it } from 'vitest'
import { weightedAverage } from '../../../src/federated/strategies/aggregate.js'
import { createStrategy } from '../../../src/federated/strategies/create-strategy.js'
import { createMemoryGrid } from '../../../src/federated/simulation/memory-grid.js'
import { runFederated } from '../../../src/federated/run.js'
import { checkBufferedUpdates, isStreaming, weightedSumFolder } from '../../../src/federated/streaming.js'
import { constant, dataset, fakeRuntime, flat, record, update } from './helpers.js'
import type { Grid } from '../../../src/federated/grid.js'

describe('weightedSumFolder', () => {
  it('folds updates one at a time into the example-weighted average', () => {
    const updates = [update('a', record([1, 2, 3, 4, 5, 6]), 10), update('b', record([3, 2, 1, 0, -1, -2]), 30), update('c', constant(7), 0)]
    const folder = weightedSumFolder(constant(0))
    for (const u of updates) folder.add(u)
    const expected = [0, 1].map(k => Array.from(weightedAverage(updates.map(u => u.weights[k].data), updates.map(u => u.numExamples))))
    expect(flat(folder.result())).toEqual(expected.flat().map(v => Math.fround(v)))
  })

  it('refuses an empty round and a negative weight with InvalidUpdateError', () => {
    const folder = weightedSumFolder(constant(0))
    expect(() => folder.result()).toThrow(expect.objectContaining({ name: 'InvalidUpdateError' }))
    expect(() => { folder.add(update('a', constant(1), -1)) }).toThrow(expect.objectContaining({ name: 'InvalidUpdateError' }))
  })
})

describe('streaming strategies and the buffered-update bound', () => {
  it('fedavg and fedsgd stream; the robust rules do not', () => {
    expect(isStreaming(createStrategy('fedavg'))).toBe(true)
    expect(isStreaming(createStrategy('fedsgd'))).toBe(true)
    for (const name of ['fedmedian', 'trimmed-mean', 'krum']) expect(isStreaming(createStrategy(name))).toBe(false)
  })

  it('refuses a robust round above the limit with TooManyParticipantsError, never a streaming one', () => {
    expect(() => { checkBufferedUpdates(createStrategy('fedmedian'), 201, 200) }).toThrow(expect.objectContaining({ name: 'TooManyParticipantsError' }))
    expect(() => { checkBufferedUpdates(createStrategy('fedmedian'), 200, 200) }).not.toThrow()
    expect(() => { checkBufferedUpdates(createStrategy('fedavg'), 10_000, 200) }).not.toThrow()
  })

  it('a fedavg run holds no update weights after folding them, and matches the batch aggregate', async () => {
    const runtime = fakeRuntime()
    const inner = createMemoryGrid({ runtime, clients: [1, 2, 3, 4].map((v, i) => ({ id: `c${i}`, data: dataset(10 * (i + 1), v) })) })
    const grid: Grid = { clients: () => inner.clients(), train: async (id, req, opts) => await inner.train(id, req, opts) }
    const result = await runFederated({
      grid, strategy: createStrategy('fedavg'), runtime, baseModelId: 'base', initialWeights: constant(0), rounds: 1, fraction: 1,
      minParticipants: 4, roundDeadlineMs: 5000, evaluate: async () => ({ loss: 0, accuracy: 0 }), seed: 1
    })
    // each client moves halfway to its value: v/2, weighted by 10, 20, 30, 40 examples
    const expected = (0.5 * 10 + 1 * 20 + 1.5 * 30 + 2 * 40) / 100
    for (const v of flat(result.weights)) expect(v).toBeCloseTo(expected, 6)
  })

  it('a robust run above maxBufferedUpdates is refused before any client trains', async () => {
    const runtime = fakeRuntime()
    const grid = createMemoryGrid({ runtime, clients: [1, 2, 3].map((v, i) => ({ id: `c${i}`, data: dataset(10, v) })) })
    await expect(runFederated({
      grid, strategy: createStrategy('fedmedian'), runtime, baseModelId: 'base', initialWeights: constant(0), rounds: 1, fraction: 1,
      minParticipants: 3, roundDeadlineMs: 5000, evaluate: async () => ({ loss: 0, accuracy: 0 }), maxBufferedUpdates: 2
    })).rejects.toMatchObject({ name: 'TooManyParticipantsError' })
    expect(runtime.registered).toHaveLength(0)
  })
})
