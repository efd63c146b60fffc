import { describe, expect, it } from 'vitest'
import { createStrategy } from '../../../src/federated/strategies/create-strategy.js'
import { createMemoryGrid } from '../../../src/federated/simulation/memory-grid.js'
import { MemoryCheckpointStore } from '../../../src/federated/checkpoint.js'
import { roundSampleSize, runFederated } from '../../../src/federated/run.js'
import { constant, dataset, fakeRuntime, flat } from './helpers.js'
import type { InjectedFault, VirtualClient } from '../../../src/federated/simulation/memory-grid.js'
import type { Grid } from '../../../src/federated/grid.js'
import type { FederatedRunOptions } from '../../../src/federated/run-types.js'

function clients (values: number[]): VirtualClient[] {
  return values.map((v, i) => ({ id: `c${i}`, data: dataset(10 * (i + 1), v) }))
}

function options (over: Partial<FederatedRunOptions> & { faults?: (id: string, round: number) => InjectedFault | undefined, values?: number[] } = {}): FederatedRunOptions {
  const runtime = fakeRuntime()
  const grid = createMemoryGrid({ runtime, clients: clients(over.values ?? [1, 1, 1, 1]), fault: over.faults })
  return {
    grid,
    strategy: createStrategy('fedavg'),
    runtime,
    baseModelId: 'base',
    initialWeights: constant(0),
    rounds: 2,
    fraction: 1,
    minParticipants: 2,
    roundDeadlineMs: 5_000,
    evaluate: async (w) => ({ loss: 0, accuracy: flat(w)[0] }),
    seed: 7,
    ...over
  }
}

describe('runFederated', () => {
  it('samples max(minParticipants, ceil(C*K)) clients', () => {
    expect(roundSampleSize(100, 0.1, 2)).toBe(10)
    expect(roundSampleSize(10, 0.1, 2)).toBe(2)
    expect(roundSampleSize(1, 0.5, 2)).toBe(1)
  })

  it('on a small mesh asks every client and needs every sampled update, saying why (defaults)', async () => {
    let failed = false
    const once = (id: string): InjectedFault | undefined => {
      if (id !== 'c2' || failed) return undefined
      failed = true
      return 'fail'
    }
    const plans: string[] = []
    const o = options({ faults: once, rounds: 1, fraction: undefined, minParticipants: undefined, onPlan: (p) => plans.push(p.reason) })
    const { records } = await runFederated(o)
    expect(plans).toEqual(['4 of 4 clients per round: fraction 1 (default: every client while at most 10 are available; 4 are), min participants 4 (default with fraction 1: every sampled client)'])
    // attempt 1 got 3 of the 4 sampled updates: not enough, so the round was tried again
    expect(records[0]).toMatchObject({ attempts: 2, participants: 4 })
  })

  it('evaluates the initial model as round 0 when asked', async () => {
    const initial: number[] = []
    await runFederated(options({ rounds: 1, onInitial: (e) => initial.push(e.accuracy) }))
    expect(initial).toEqual([0])
  })

  it('runs rounds, aggregates, registers, evaluates and reports', async () => {
    const seen: number[] = []
    const o = options({ onRound: (r) => seen.push(r.round) })
    const result = await runFederated(o)
    expect(seen).toEqual([1, 2])
    expect(result.records.map((r) => r.participants)).toEqual([4, 4])
    // every client pulls halfway towards 1: 0 -> 0.5 -> 0.75
    expect(result.records.map((r) => r.accuracy)).toEqual([0.5, 0.75])
    expect(result.globalModelId).toBe('global-2')
    expect(result.records[0].bytesDown).toBeGreaterThan(0)
    expect(result.records[0].bytesUp).toBe(result.records[0].bytesDown)
    expect((o.runtime as ReturnType<typeof fakeRuntime>).unloaded).toEqual(['global-1'])
  })

  it('treats failures, hangs and invalid updates as failures and aggregates the rest', async () => {
    const faults = (id: string): InjectedFault | undefined => ({ c0: 'fail', c1: 'invalid', c2: 'hang' } as Record<string, InjectedFault>)[id]
    const o = options({ values: [1, 1, 1, 1, 1], faults, minParticipants: 2, roundDeadlineMs: 500, rounds: 1 })
    const { records } = await runFederated(o)
    expect(records[0].participants).toBe(2)
    expect(records[0].failures).toBe(3)
    const reasons = Object.fromEntries(records[0].failureReasons.map((f) => [f.clientId, f.reason.split(':')[0]]))
    expect(reasons).toEqual({ c0: 'InjectedFailureError', c1: 'InvalidUpdateError', c2: 'DeadlineExceededError' })
  })

  it('counts a grid that throws synchronously as a failure', async () => {
    const base = options({ rounds: 1 })
    const grid: Grid = {
      clients: () => base.grid.clients(),
      train: (id, request, opts) => {
        if (id === 'c0') throw new Error('boom')
        return base.grid.train(id, request, opts)
      }
    }
    const { records } = await runFederated({ ...base, grid })
    expect(records[0].participants).toBe(3)
    expect(records[0].failureReasons).toEqual([{ clientId: 'c0', reason: 'Error: boom' }])
  })

  it('retries a round with too few updates, then aborts with RoundAbortedError', async () => {
    const o = options({ faults: () => 'fail', maxRoundRetries: 1, rounds: 1 })
    await expect(runFederated(o)).rejects.toMatchObject({ name: 'RoundAbortedError', message: expect.stringMatching(/gave up after 1 retries/) })
  })

  it('recovers when a retry succeeds', async () => {
    let calls = 0
    const o = options({ faults: () => (calls++ < 4 ? 'fail' : undefined), rounds: 1 })
    const { records } = await runFederated(o)
    expect(records[0].attempts).toBe(2)
    expect(records[0].failures).toBe(4)
    expect(records[0].participants).toBe(4)
  })

  it('never hangs when every client hangs', async () => {
    const o = options({ faults: () => 'hang', maxRoundRetries: 0, roundDeadlineMs: 20, rounds: 1 })
    await expect(runFederated(o)).rejects.toMatchObject({ name: 'RoundAbortedError' })
  })

  it('aborts with RoundAbortedError when the caller aborts mid-round', async () => {
    const controller = new AbortController()
    // Abort once a client has been asked to train: the round is then in progress.
    const o = options({ faults: () => { queueMicrotask(() => { controller.abort() }); return 'hang' }, signal: controller.signal, rounds: 1 })
    await expect(runFederated(o)).rejects.toMatchObject({ name: 'RoundAbortedError' })
  })

  it('is deterministic for a seed', async () => {
    const values = [0.1, 0.9, 0.3, 0.7, 0.5, 0.2]
    const a = await runFederated(options({ values, fraction: 0.5, rounds: 3 }))
    const b = await runFederated(options({ values, fraction: 0.5, rounds: 3 }))
    expect(flat(a.weights)).toEqual(flat(b.weights))
  })

  it('resumes from the last checkpoint and ends where an uninterrupted run ends', async () => {
    const values = [0.1, 0.9, 0.3, 0.7, 0.5, 0.2]
    const full = await runFederated(options({ values, fraction: 0.5, rounds: 4 }))
    const store = new MemoryCheckpointStore()
    await runFederated(options({ values, fraction: 0.5, rounds: 2, checkpoint: store }))
    const resumed = await runFederated(options({ values, fraction: 0.5, rounds: 4, checkpoint: store }))
    expect(resumed.resumedRounds).toBe(2)
    expect(resumed.records.map((r) => r.round)).toEqual([1, 2, 3, 4])
    expect(flat(resumed.weights)).toEqual(flat(full.weights))
  })

  it('rejects invalid options with InvalidConfigError', async () => {
    await expect(runFederated(options({ fraction: 0 }))).rejects.toMatchObject({ name: 'InvalidConfigError' })
    await expect(runFederated(options({ minParticipants: 0 }))).rejects.toMatchObject({ name: 'InvalidConfigError' })
  })
})
