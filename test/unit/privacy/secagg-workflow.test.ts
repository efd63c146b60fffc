/**
 * The secure attempt of a round (`secureCollect`) over an in-memory
 * transport of real SecAggClients: the stages, dropouts at each stage, the
 * threshold error, and that the coordinator's one update is the weighted
 * mean of the survivors' updates within the fixed-point bound.
 */
import { describe, expect, it } from 'vitest'
import { initialRoundState } from '../../../src/federated/round.js'
import { SecAggClient } from '../../../src/federated/privacy/secagg/client.js'
import { seededRandom } from '../../../src/federated/privacy/secagg/crypto.js'
import { meanErrorBound } from '../../../src/federated/privacy/secagg/fixed-point.js'
import { secureCollect } from '../../../src/federated/privacy/secagg/workflow.js'
import { clientNoise, privatizeInPlace, withDistributedDp } from '../../../src/federated/privacy/secagg/distributed-dp.js'
import { createRng } from '../../../src/federated/rng.js'
import type { ClientNoise } from '../../../src/federated/privacy/secagg/distributed-dp.js'
import type { SecAggTransport } from '../../../src/federated/privacy/secagg/workflow.js'
import type { Strategy } from '../../../src/federated/strategy.js'
import type { AttemptInput } from '../../../src/federated/collect.js'
import type { WeightRecord } from '../../../src/model/types.js'

const GLOBAL: WeightRecord = [{ name: 'w', shape: [2, 2], dtype: 'float32', data: Float32Array.from([0.5, -0.25, 0, 1]) }, { name: 'b', shape: [1], dtype: 'float32', data: Float32Array.from([0.1]) }]
const TRAIN = { epochs: 1, batchSize: 10, learningRate: 0.1, proximalMu: 0, seed: 1 }

/** Client `i`'s update (5 values) and example count. */
function updateOf (i: number): { delta: Float32Array, n: number } {
  return { delta: Float32Array.from({ length: 5 }, (_, k) => Math.sin(i * 7 + k) * 0.3), n: 10 * i }
}

type Stage = 'setup' | 'neighbours' | 'inbox' | 'unmask'

function transport (fail: Partial<Record<Stage, Set<string>>> = {}): SecAggTransport & { clients: Map<string, SecAggClient> } {
  const clients = new Map<string, SecAggClient>()
  const noises = new Map<string, ClientNoise | undefined>()
  const check = (stage: Stage, id: string): void => { if (fail[stage]?.has(id) === true) throw new Error(`${id} gone in ${stage}`) }
  const index = (clientId: string): number => Number(clientId.slice(1))
  let up = 0
  return {
    clients,
    async setup (clientId, m) {
      check('setup', clientId)
      const c = new SecAggClient(m.id, m.config, seededRandom(m.id))
      clients.set(clientId, c)
      noises.set(clientId, m.noise)
      const keys = c.advertise()
      up += 64
      return { numExamples: updateOf(index(clientId)).n, cPk: keys.cPk, sPk: keys.sPk }
    },
    async neighbours (clientId, _r, keys) {
      check('neighbours', clientId)
      const c = clients.get(clientId) as SecAggClient
      return c.shareKeys({ type: 'keys', to: c.id, keys }).shares
    },
    async inbox (clientId, _r, shares) {
      check('inbox', clientId)
      const c = clients.get(clientId) as SecAggClient
      const u = updateOf(index(clientId))
      const noise = noises.get(clientId)
      const delta = Float32Array.from(u.delta)
      if (noise !== undefined) privatizeInPlace(delta, noise)
      return { vector: c.maskInput({ type: 'inbox', to: c.id, shares }, delta, noise === undefined ? u.n : 1).vector, metrics: { loss: 1, accuracy: 0.5, trainMs: 3 } }
    },
    async unmask (clientId, _r, survivors, dropped) {
      check('unmask', clientId)
      const c = clients.get(clientId) as SecAggClient
      const { selfShares, keyShares } = c.unmask({ type: 'unmask-request', survivors, dropped })
      return { selfShares, keyShares }
    },
    bytes: () => ({ up, down: 0 })
  }
}

function input (n: number): AttemptInput {
  return {
    grid: { clients: () => [], train: async () => { throw new Error('unused') } },
    state: initialRoundState({ minParticipants: 2 }),
    instructions: Array.from({ length: n }, (_, i) => ({ clientId: `c${i + 1}`, config: TRAIN })),
    request: { round: 1, modelVersion: 0, baseModelId: 'base', weights: GLOBAL },
    deadlineMs: 10_000
  }
}

function expected (ids: number[]): Float32Array {
  const total = ids.reduce((s, i) => s + updateOf(i).n, 0)
  const out = new Float32Array(5)
  for (const i of ids) updateOf(i).delta.forEach((v, k) => { out[k] += v * updateOf(i).n / total })
  return out
}

function flatWeights (r: WeightRecord): number[] {
  return r.flatMap((t) => Array.from(t.data))
}

describe('secureCollect', () => {
  it('returns one update, the weighted FedAvg of every client within the bound', async () => {
    const outcome = await secureCollect(transport(), { neighbours: 4 }, 3)(input(6))
    expect(outcome.state.phase).toBe('aggregating')
    expect(outcome.updates).toHaveLength(1)
    expect(outcome.participantIds).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'c6'])
    expect(outcome.updates[0].numExamples).toBe(210)
    const want = flatWeights(GLOBAL).map((g, k) => g + expected([1, 2, 3, 4, 5, 6])[k])
    const bound = meanErrorBound({ bound: 1, maxTotalWeight: 2 ** 16 }, 6, 210) + 1e-7
    flatWeights(outcome.updates[0].weights).forEach((v, k) => { expect(Math.abs(v - want[k])).toBeLessThanOrEqual(bound) })
  })

  it('drops clients that fail a stage and sums the survivors', async () => {
    const t = transport({ setup: new Set(['c1']), neighbours: new Set(['c2']), inbox: new Set(['c3']), unmask: new Set(['c4']) })
    const outcome = await secureCollect(t, { neighbours: 7, threshold: 3 }, 3)(input(8))
    // c4 sent its masked input before failing to unmask: its update is in the sum
    expect(outcome.participantIds).toEqual(['c4', 'c5', 'c6', 'c7', 'c8'])
    expect(outcome.failures.map((f) => f.clientId).sort()).toEqual(['c1', 'c2', 'c3'])
    const want = flatWeights(GLOBAL).map((g, k) => g + expected([4, 5, 6, 7, 8])[k])
    flatWeights(outcome.updates[0].weights).forEach((v, k) => { expect(v).toBeCloseTo(want[k], 5) })
  })

  it('fails the round with SecAggThresholdError when too few survive', async () => {
    const t = transport({ inbox: new Set(['c1', 'c2', 'c3']) })
    await expect(secureCollect(t, { neighbours: 3, threshold: 2 }, 3)(input(4))).rejects.toMatchObject({ name: 'SecAggThresholdError' })
  })

  it('with distributed DP: the clipped unweighted sum over the survivors, divided by the m clients asked', async () => {
    const t = transport({ inbox: new Set(['c2']) })
    // z = 0: no noise, so the result is exact up to fixed point; clip 0.5 clips every update (norms about 0.5-0.67)
    const outcome = await secureCollect(t, { neighbours: 4, dp: { clipNorm: 0.5, noiseMultiplier: 0 } }, 3)(input(5))
    expect(outcome.updates[0].numExamples).toBe(4)
    const want = new Float64Array(5)
    for (const i of [1, 3, 4, 5]) {
      const d = updateOf(i).delta
      const norm = Math.hypot(...d)
      d.forEach((v, k) => { want[k] += v * Math.min(1, 0.5 / norm) / 5 })
    }
    const got = flatWeights(outcome.updates[0].weights).map((v, k) => v - flatWeights(GLOBAL)[k])
    got.forEach((v, k) => { expect(v).toBeCloseTo(want[k], 5) })
  })

  it('splits the noise so the sum of m shares has std zC, and accounts dropouts with z·sqrt(s/m)', () => {
    const noise = clientNoise({ clipNorm: 2, noiseMultiplier: 1.5 }, 9)
    expect(noise.noiseStd).toBeCloseTo(1, 12)
    const x = new Float32Array(40_000)
    privatizeInPlace(x, noise)
    const std = Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length)
    expect(std).toBeGreaterThan(0.97)
    expect(std).toBeLessThan(1.03)
    const inner: Strategy = { name: 'fedavg', configureRound: () => [], aggregate: (_c, r) => r[0].weights }
    const dp = withDistributedDp(inner, { mode: 'central', clipNorm: 2, noiseMultiplier: 1.5, delta: 1e-5 })
    const ctx = { round: 1, attempt: 1, global: GLOBAL, clients: Array.from({ length: 9 }, (_, i) => ({ id: `c${i}` })), sampleSize: 9, rng: createRng(1), seed: 1 }
    void dp.aggregate(ctx, [{ clientId: 'x', weights: GLOBAL, numExamples: 4, metrics: { loss: 0, accuracy: 0, trainMs: 0 } }], [])
    expect(dp.privacy?.last()).toMatchObject({ sampleRate: 1, noiseMultiplier: 1 })
  })
})
