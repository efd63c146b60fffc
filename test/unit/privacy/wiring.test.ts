import { describe, expect, it } from 'vitest'
import { roundLine } from '../../../src/cli/commands/train.js'
import { decodeRunAnnouncement, encodeRunAnnouncement } from '../../../src/federated/mesh/run-gossip.js'
import { parseRunSpec, roundSummary } from '../../../src/federated/mesh/runs.js'
import type { RoundRecord } from '../../../src/federated/run-types.js'
import type { RunSummary } from '../../../src/federated/mesh/service-types.js'

const record: RoundRecord = {
  round: 2, accuracy: 0.5, loss: 1, participants: 2, participantIds: ['a', 'b'], failures: 0, failureReasons: [], attempts: 1, wallMs: 3,
  bytesUp: 4, bytesDown: 5, globalModelId: 'sha256-abc', slowestTrainMs: 1,
  privacy: { epsilon: 1.5, delta: 1e-5, sampleRate: 0.1, noiseMultiplier: 1.1 }
}

describe('DP in run specs, summaries, gossip and the CLI', () => {
  it('parses dp and compression in a run spec with defaults', () => {
    expect(parseRunSpec({ rounds: 3, dp: { mode: 'central', targetEpsilon: 4 } }).dp).toEqual({ mode: 'central', clipNorm: 1, noiseMultiplier: 1, delta: 1e-5, targetEpsilon: 4 })
    expect(parseRunSpec({ rounds: 3 }).dp).toBeUndefined()
    expect(parseRunSpec({ rounds: 3, dp: { mode: 'local' } }).dp).toMatchObject({ mode: 'local', clipNorm: 1, noiseMultiplier: 1 })
    expect(parseRunSpec({ rounds: 3, compression: 'int8' }).compression).toEqual({ scheme: 'int8' })
    expect(parseRunSpec({ rounds: 3, compression: 'topk:0.01' }).compression).toMatchObject({ scheme: 'topk', ratio: 0.01 })
    expect(parseRunSpec({ rounds: 3, compression: 'none' }).compression).toBeUndefined()
    expect(() => parseRunSpec({ rounds: 3, compression: 'zip' })).toThrow(/compression/)
    // int8 composes with secure aggregation inside the mask ring; top-k does not (different supports)
    expect(parseRunSpec({ rounds: 3, compression: 'int8', secureAggregation: {} }).compression).toEqual({ scheme: 'int8' })
    expect(() => parseRunSpec({ rounds: 3, compression: 'topk:0.01', secureAggregation: {} })).toThrow(/compression/)
    expect(() => parseRunSpec({ rounds: 3, dp: { noiseMultiplier: 'x' } })).toThrow(/dp.noiseMultiplier/)
    expect(() => parseRunSpec({ rounds: 3, strategy: 'krum', dp: { mode: 'central' } })).toThrow(/dp:/)
  })

  it('carries epsilon into round summaries, through gossip, and onto the progress line', () => {
    const round = roundSummary(record)
    expect(round).toMatchObject({ epsilon: 1.5, delta: 1e-5 })
    const run: RunSummary = {
      id: 'run-1', state: 'completed', strategy: 'fedavg', rounds: 5, completedRounds: 2, coordinator: 'peer-a', globalModelId: 'sha256-abc', startedAt: 1,
      stopReason: 'target-epsilon', privacy: { mode: 'central', clipNorm: 1, noiseMultiplier: 1.1, delta: 1e-5, targetEpsilon: 2, epsilon: 1.5 }, history: [round]
    }
    expect(decodeRunAnnouncement(encodeRunAnnouncement({ seq: 1, run })).run).toEqual(run)
    const mangled = { ...run, privacy: { mode: 'nope', epsilon: -1 }, stopReason: 'bored' }
    const decoded = decodeRunAnnouncement(new TextEncoder().encode(JSON.stringify({ v: 1, seq: 2, run: mangled }))).run
    expect(decoded.privacy).toBeUndefined()
    expect(decoded.stopReason).toBeUndefined()
    expect(roundLine(round, 5)).toContain('ε 1.50 (δ 0.00001)')
    expect(roundLine(roundSummary({ ...record, privacy: undefined }), 5)).not.toContain('ε')
  })
})
