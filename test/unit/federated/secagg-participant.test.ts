/**
 * The participant's secure aggregation sessions with a stub training job:
 * the four stages in order for two clients, and the refusals (out of order,
 * twice, another coordinator, too many sessions, failed training).
 */
import { describe, expect, it } from 'vitest'
import { SecAggParticipant } from '../../../src/federated/mesh/secagg-participant.js'
import { maskedVector } from '../../../src/federated/privacy/secagg/vector.js'
import type { UpdateSink } from '../../../src/federated/mesh/participant.js'
import type { SecAggSetupMessage } from '../../../src/federated/mesh/protocol/secagg-messages.js'
import type { WeightRecord } from '../../../src/model/types.js'

const GLOBAL: WeightRecord = [{ name: 'w', shape: [3], dtype: 'float32', data: Float32Array.from([0, 1, 2]) }]
const REF = { runId: 'r', round: 1, attempt: 1, clientIndex: 0 }
const setup = (id: number): SecAggSetupMessage => ({
  type: 'secagg-setup', ...REF, version: 0, baseModelId: 'm', epochs: 1, batchSize: 10, learningRate: 0.1, proximalMu: 0, seed: 1,
  deadlineMs: 10_000, id, clients: 2, degree: 1, threshold: 1, graphSeed: 5, vectorLength: 3, bound: 1, maxTotalWeight: 1000, stageTimeoutMs: 1000
})

function node (): { p: SecAggParticipant, sinks: UpdateSink[] } {
  const sinks: UpdateSink[] = []
  const p = new SecAggParticipant({
    participant: () => ({ accept: async (_a, _c, _o, sink) => { sinks.push(sink as UpdateSink); return { type: 'accept', numExamples: 50 } } }),
    log: Object.assign(() => {}, { enabled: false, trace: () => {}, error: () => {}, newScope: () => { throw new Error('unused') } }) as any,
    maxSessions: 2
  })
  return { p, sinks }
}

const trained = (values: number[]): any => ({ weights: [{ ...GLOBAL[0], data: Float32Array.from(values) }], numExamples: 40, loss: 0.3, accuracy: 0.9, trainMs: 5 })

describe('SecAggParticipant', () => {
  it('answers the four stages in order and never sends the update unmasked', async () => {
    const [a, b] = [node(), node()]
    const keysA = (await a.p.handle(setup(1), 'coord', {})).message as any
    const keysB = (await b.p.handle(setup(2), 'coord', {})).message as any
    expect(keysA).toMatchObject({ type: 'secagg-keys', numExamples: 50 })
    const sharesA = (await a.p.handle({ type: 'secagg-neighbours', ...REF, keys: [{ id: 2, cPk: keysB.cPk, sPk: keysB.sPk }] }, 'coord', {})).message as any
    const sharesB = (await b.p.handle({ type: 'secagg-neighbours', ...REF, keys: [{ id: 1, cPk: keysA.cPk, sPk: keysA.sPk }] }, 'coord', {})).message as any
    expect(sharesA.shares.map((s: any) => s.to)).toEqual([2])
    a.sinks[0].deliver(trained([0.5, 1, 2]), GLOBAL, 50)
    b.sinks[0].deliver(trained([0, 0.75, 2]), GLOBAL, 50)
    const maskedA = await a.p.handle({ type: 'secagg-inbox', ...REF, shares: [{ from: 2, ciphertext: sharesB.shares[0].ciphertext }] }, 'coord', {})
    expect(maskedA.message).toMatchObject({ type: 'secagg-masked', loss: 0.3 })
    const vector = maskedVector(maskedA.record, 4)
    // 40 * 0.5 * 2^f would be visible in the clear: the masked word is not it
    expect(vector[0]).not.toBe(Math.round(40 * 0.5 * 2 ** 14))
    const reveal = (await a.p.handle({ type: 'secagg-unmask', ...REF, survivors: [1, 2], dropped: [] }, 'coord', {})).message as any
    expect(reveal.selfShares.map((s: any) => s.of)).toEqual([2])
    expect(reveal.keyShares).toEqual([])
    expect(a.p.open()).toBe(0)
  })

  it('accepts only the int8 ring that fits its round (a smaller one could wrap), and packs the masked input in it', async () => {
    const { p } = node()
    await expect(p.handle({ ...setup(1), ringBits: 12 }, 'coord', {})).rejects.toMatchObject({ name: 'ProtocolError' })
    // 2 clients: 8 + ceil(log2 2) = 9 bits
    const [a, b] = [node(), node()]
    const keysA = (await a.p.handle({ ...setup(1), ringBits: 9 }, 'coord', {})).message as any
    const keysB = (await b.p.handle({ ...setup(2), ringBits: 9 }, 'coord', {})).message as any
    await a.p.handle({ type: 'secagg-neighbours', ...REF, keys: [{ id: 2, cPk: keysB.cPk, sPk: keysB.sPk }] }, 'coord', {})
    const sharesB = (await b.p.handle({ type: 'secagg-neighbours', ...REF, keys: [{ id: 1, cPk: keysA.cPk, sPk: keysA.sPk }] }, 'coord', {})).message as any
    a.sinks[0].deliver(trained([0.5, 1, 2]), GLOBAL, 50)
    const masked = await a.p.handle({ type: 'secagg-inbox', ...REF, shares: [{ from: 2, ciphertext: sharesB.shares[0].ciphertext }] }, 'coord', {})
    expect(masked.record?.[0]).toMatchObject({ name: 'secagg/masked-packed', shape: [2] })
    expect(Math.max(...maskedVector(masked.record, 4, 9))).toBeLessThan(2 ** 9)
  })

  it('refuses out of order, twice, from another coordinator, and beyond its sessions', async () => {
    const { p } = node()
    await expect(p.handle({ type: 'secagg-unmask', ...REF, survivors: [1, 2], dropped: [] }, 'coord', {})).rejects.toMatchObject({ name: 'ProtocolError' })
    await p.handle(setup(1), 'coord', {})
    await expect(p.handle(setup(1), 'coord', {})).rejects.toMatchObject({ name: 'ProtocolError' })
    await expect(p.handle({ type: 'secagg-neighbours', ...REF, keys: [] }, 'other', {})).rejects.toMatchObject({ name: 'ProtocolError' })
    await p.handle({ ...setup(1), clientIndex: 1 }, 'coord', {})
    await expect(p.handle({ ...setup(1), clientIndex: 2 }, 'coord', {})).rejects.toMatchObject({ name: 'LimitExceededError' })
    p.forget('coord', 'r')
    expect(p.open()).toBe(0)
  })

  it('fails the inbox with the training error and closes the session', async () => {
    const { p, sinks } = node()
    const keys = (await p.handle(setup(1), 'coord', {})).message as any
    await p.handle({ type: 'secagg-neighbours', ...REF, keys: [{ id: 2, cPk: keys.cPk, sPk: keys.sPk }] }, 'coord', {})
    sinks[0].fail(Object.assign(new Error('no data'), { name: 'NoTrainingDataError' }))
    await expect(p.handle({ type: 'secagg-inbox', ...REF, shares: [] }, 'coord', {})).rejects.toMatchObject({ name: 'NoTrainingDataError' })
    expect(p.open()).toBe(0)
  })
})
