import { describe, expect, it } from 'vitest'
import { roundLine } from '../../../src/cli/commands/train.js'
import { roundSummary } from '../../../src/federated/mesh/runs.js'
import type { RoundRecord } from '../../../src/federated/run-types.js'

const record: RoundRecord = {
  round: 1, accuracy: 0.9, loss: 0.3, participants: 3, participantIds: ['a', 'b', 'c'], failures: 0, failureReasons: [], attempts: 1, wallMs: 10,
  bytesUp: 1, bytesDown: 1, globalModelId: 'sha256-\u001b[2Jab', slowestTrainMs: 1
}

describe('train progress lines', () => {
  it('escape control characters that arrive with a peer-supplied model id', () => {
    const line = roundLine(roundSummary(record), 3)
    expect(line).not.toContain('\u001b')
    expect(line).toContain('sha256-\\x1b[2Ja')
  })

  it('print the round\'s participants, failures, accuracy, loss, bytes and time', () => {
    const line = roundLine(roundSummary({ ...record, globalModelId: 'sha256-ab', wallMs: 4617, bytesUp: 3_187_952 }), 2)
    expect(line).toMatch(/^round 1\/2 {2}participants 3 {2}failures 0 {2}accuracy 0\.900 {2}loss 0\.30 {2}up 3\.19 MB {2}4\.62 s {2}global sha256-ab…$/)
    expect(roundLine(roundSummary({ ...record, wallMs: Number.NaN }), 2)).not.toMatch(/ s {2}global/)
  })
})
