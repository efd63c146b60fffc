import { describe, expect, it } from 'vitest'
import { clientTrainingSeed, datasetKey } from '../../../src/federated/data-key.js'
import { planSampling } from '../../../src/federated/sampling.js'
import { configureSampled, sampleClients } from '../../../src/federated/strategy.js'
import { createRng } from '../../../src/federated/rng.js'
import { waitingForClients } from '../../../src/federated/mesh/service-helpers.js'
import { finalLine, runFailed, runNotes } from '../../../src/cli/commands/train.js'
import { interruptModeFlag, stopCommand } from '../../../src/cli/commands/train-interrupt.js'
import type { RunSummary } from '../../../src/federated/mesh/service-types.js'

describe('small-mesh sampling defaults', () => {
  it('asks every client, and needs every update, while at most 10 are available', () => {
    const plan = planSampling(4)
    expect(plan).toMatchObject({ fraction: 1, minParticipants: 4, sampleSize: 4 })
    expect(plan.reason).toBe('4 of 4 clients per round: fraction 1 (default: every client while at most 10 are available; 4 are), min participants 4 (default with fraction 1: every sampled client)')
  })

  it('keeps C = 0.1 and 2 participants beyond 10 clients, and what the user asked for', () => {
    expect(planSampling(100)).toMatchObject({ fraction: 0.1, minParticipants: 2, sampleSize: 10 })
    expect(planSampling(4, 0.5)).toMatchObject({ fraction: 0.5, minParticipants: 2, sampleSize: 2 })
    expect(planSampling(4, 1, 2)).toMatchObject({ fraction: 1, minParticipants: 2, sampleSize: 4 })
    expect(planSampling(4, 1, 2).reason).toContain('fraction 1 (as asked), min participants 2 (as asked)')
  })
})

describe('training seeds from the data, not from ids or positions', () => {
  const data = (v: number): { x: Float32Array, y: Int32Array, count: number } => ({ x: new Float32Array([v, 1, 2, 3]), y: new Int32Array([1, 0]), count: 2 })

  it('keys a data set by its content', () => {
    expect(datasetKey(data(0.5))).toBe(datasetKey(data(0.5)))
    expect(datasetKey(data(0.5))).not.toBe(datasetKey(data(0.25)))
  })

  it('samples the same shards whatever the clients are called or listed as', () => {
    const ctx = (ids: string[], keys: number[]): any => ({ round: 1, attempt: 1, global: [], clients: ids.map((id, i) => ({ id, dataKey: keys[i] })), sampleSize: 3, rng: createRng(4), seed: 0 })
    const keys = [11, 5, 99, 42, 7, 63]
    const a = sampleClients(ctx(keys.map((k) => `peer-a#${k}`), keys))
    const reversed = [...keys].reverse()
    const b = sampleClients(ctx(reversed.map((k, i) => `other-${i}#0`), reversed))
    expect(b.map((c) => c.dataKey)).toEqual(a.map((c) => c.dataKey))
  })

  it('gives every sampled client the round seed, whatever its id or place in the sample', () => {
    const ctx = (ids: string[]): any => ({ round: 2, attempt: 1, global: [], clients: ids.map((id) => ({ id })), sampleSize: ids.length, rng: createRng(1), seed: 9 })
    const a = configureSampled(ctx(['peer-a#0', 'peer-b#0']), { epochs: 1, batchSize: 10, learningRate: 0.1, proximalMu: 0 })
    const b = configureSampled(ctx(['peer-z#0', 'peer-y#0', 'peer-x#0']), { epochs: 1, batchSize: 10, learningRate: 0.1, proximalMu: 0 })
    expect(new Set([...a, ...b].map((i) => i.config.seed)).size).toBe(1)
    expect(clientTrainingSeed(a[0].config.seed, datasetKey(data(0.5)))).not.toBe(clientTrainingSeed(a[0].config.seed, datasetKey(data(0.25))))
  })
})

describe('what a followed run says', () => {
  const run = (over: Partial<RunSummary>): RunSummary => ({
    id: 'run-1', state: 'running', strategy: 'fedavg', rounds: 2, completedRounds: 0, coordinator: 'peer', globalModelId: 'sha256-base', startedAt: 0, history: [], ...over
  })

  it('names what a waiting run waits for and how to fix it', () => {
    expect(waitingForClients(0, 2)).toMatch(/^waiting-for-clients: 0 of 2 clients joined .*start nodes with --data <spec>/)
    expect(runNotes(run({ waiting: waitingForClients(1, 2), sampling: 'x' }))).toEqual(['sampling: x', waitingForClients(1, 2)])
  })

  it('never shows the untrained model of a run without rounds as its global model', () => {
    const text = finalLine(run({ state: 'aborted', error: { name: 'DeadlineExceededError', message: 'only 0 of 2 clients joined' } }))
    expect(text).toContain('no global model: no round completed')
    expect(text).not.toContain('sha256-base')
    expect(runFailed({ state: 'aborted' })).toBe(true)
    expect(runFailed({ state: 'cancelled' })).toBe(true)
    expect(runFailed({ state: 'completed' })).toBe(false)
  })

  it('stops the run on Ctrl-C at a terminal, detaches otherwise', () => {
    expect(interruptModeFlag(undefined, true)).toBe('stop')
    expect(interruptModeFlag(undefined, false)).toBe('detach')
    expect(() => interruptModeFlag('later', true)).toThrow(expect.objectContaining({ name: 'UsageError' }))
    expect(stopCommand('run-1', 'http://127.0.0.1:1', true)).toBe('edge-mesh train stop run-1 --api http://127.0.0.1:1')
  })
})
