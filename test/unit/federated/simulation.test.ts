/**
 * End-to-end simulation on real MNIST digits through the model runtime:
 * 20 IID virtual clients, FedAvg, 5 rounds must reach 85 % held-out accuracy.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runMnistExperiment } from '../../../src/experiments/mnist.js'
import { createModelRuntime } from '../../../src/model/index.js'
import type { ModelRuntime } from '../../../src/model/types.js'

describe('MNIST simulation', () => {
  let runtime: ModelRuntime
  let dir: string
  beforeAll(async () => {
    runtime = await createModelRuntime()
    dir = await mkdtemp(join(tmpdir(), 'edge-mesh-sim-'))
  })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('20 IID clients reach >= 85 % in 5 rounds of FedAvg and write csv + svg', async () => {
    const rounds: number[] = []
    const result = await runMnistExperiment({
      runtime,
      clients: 20,
      fraction: 0.5,
      epochs: 1,
      batchSize: 10,
      learningRate: 0.1,
      rounds: 5,
      partition: 'iid',
      seed: 0,
      outDir: dir,
      onRound: (r) => rounds.push(r.round)
    })
    expect(rounds).toEqual([1, 2, 3, 4, 5])
    expect(result.records.every((r) => r.participants === 10 && r.failures === 0)).toBe(true)
    expect(result.finalAccuracy).toBeGreaterThanOrEqual(0.85)
    expect(result.reached.find((t) => t.target === 0.85)?.round).not.toBeNull()
    const csv = (await readFile(join(dir, 'rounds.csv'), 'utf8')).trim().split('\n')
    expect(csv[0]).toBe('round,accuracy,loss,participants,failures,wallMs,bytesUp,bytesDown')
    // header, round 0 (the initial model, evaluated before training), rounds 1..5
    expect(csv).toHaveLength(7)
    expect(csv[1]).toMatch(/^0,0\.\d+,[\d.]+,0,0,0,0,0$/)
    const svg = await readFile(join(dir, 'accuracy.svg'), 'utf8')
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
    expect(svg).toContain('<polyline')
    expect(svg).toContain('E=1, B=10, lr=0.1')
    expect(await readFile(join(dir, 'loss.svg'), 'utf8')).toContain('held-out loss')
  }, 240_000)

  it('gives the same accuracies for the same seed', async () => {
    const run = async (): Promise<number[]> => {
      const { records } = await runMnistExperiment({ runtime, clients: 20, fraction: 0.1, rounds: 2, seed: 11, partition: 'noniid' })
      return records.map((r) => r.accuracy)
    }
    expect(await run()).toEqual(await run())
  }, 120_000)

  it('trains clients N at a time with the same results as one at a time (--concurrency)', async () => {
    const run = async (concurrency: number): Promise<Array<[number, number]>> => {
      const { records } = await runMnistExperiment({ runtime, clients: 4, rounds: 1, batchSize: 50, seed: 5, concurrency })
      return records.map((r) => [r.accuracy, r.loss])
    }
    expect(await run(4)).toEqual(await run(1))
  }, 120_000)
})
