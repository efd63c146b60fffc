/** The load probe protocol over an in-memory stream pair, and its answer codec. */
import { describe, expect, it } from 'vitest'
import { decodeProbeAnswer, encodeProbeAnswer, LoadProbeHandler, probeLoad } from '../../../src/offload/load-probe.js'
import { pairedConnectionManager, randomPeerId } from './protocol-fixtures.js'
import type { LocalWork } from '../../../src/gossip/types.js'

const work: LocalWork = { inFlight: 2, queued: 5, capacity: 2, training: false, canTrain: false, models: [] }
const noLog = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false, newScope: () => noLog }) as any

describe('load probe', () => {
  it('answers with the peer\'s live outstanding work and capacity', async () => {
    const handler = new LoadProbeHandler({ registrar: { handle: async () => {}, unhandle: async () => {} }, localLoad: { snapshot: () => work }, log: noLog })
    const cm = pairedConnectionManager(handler.handle)
    const load = await probeLoad(cm as any, await randomPeerId(), { timeoutMs: 5000 })
    expect(load).toEqual({ outstanding: 7, capacity: 2 })
    await Promise.all(cm.served)
  })

  it('rejects answers of another size or version', () => {
    expect(decodeProbeAnswer(encodeProbeAnswer({ outstanding: 1, capacity: 4 }))).toEqual({ outstanding: 1, capacity: 4 })
    expect(() => decodeProbeAnswer(new Uint8Array(8))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
    const wrongVersion = encodeProbeAnswer({ outstanding: 1, capacity: 4 })
    wrongVersion[0] = 2
    expect(() => decodeProbeAnswer(wrongVersion)).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
  })
})
