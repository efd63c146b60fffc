import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FileCheckpointStore } from '../../../src/federated/checkpoint.js'
import { createStrategy } from '../../../src/federated/strategies/create-strategy.js'
import { createMemoryGrid } from '../../../src/federated/simulation/memory-grid.js'
import { runFederated } from '../../../src/federated/run.js'
import { constant, dataset, fakeRuntime, flat, record } from './helpers.js'
import type { Checkpoint } from '../../../src/federated/checkpoint.js'

describe('FileCheckpointStore', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'edge-mesh-ckpt-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  const checkpoint = (round: number): Checkpoint => ({
    state: { version: 1, completedRounds: round, modelVersion: round, globalModelId: `g${round}`, rngState: 42 + round, records: [] },
    weights: record([round, 2, 3, 4, 5, 6])
  })

  it('returns undefined when empty', async () => {
    expect(await new FileCheckpointStore(join(dir, 'none')).load()).toBeUndefined()
  })

  it('saves and loads state and weights, keeping only the latest weights file', async () => {
    const store = new FileCheckpointStore(dir)
    await store.save(checkpoint(1))
    await store.save(checkpoint(2))
    const loaded = await store.load()
    expect(loaded).toEqual(checkpoint(2))
    expect((await readdir(dir)).sort()).toEqual(['state.json', 'weights-000002.bin'])
  })

  it('lets runFederated resume after an interruption', async () => {
    const make = (rounds: number, store?: FileCheckpointStore): Parameters<typeof runFederated>[0] => {
      const runtime = fakeRuntime()
      const clients = [0.2, 0.4, 0.6, 0.8].map((v, i) => ({ id: `c${i}`, data: dataset(5 + i, v) }))
      return {
        grid: createMemoryGrid({ runtime, clients }),
        strategy: createStrategy('fedavg'),
        runtime,
        baseModelId: 'base',
        initialWeights: constant(0),
        rounds,
        fraction: 0.5,
        seed: 3,
        evaluate: async () => ({ loss: 0, accuracy: 0 }),
        checkpoint: store
      }
    }
    const reference = await runFederated(make(3))
    const store = new FileCheckpointStore(dir)
    await runFederated(make(1, store))
    const resumed = await runFederated(make(3, store))
    expect(resumed.resumedRounds).toBe(1)
    expect(flat(resumed.weights)).toEqual(flat(reference.weights))
    expect((await store.load())?.state.completedRounds).toBe(3)
  })
})
