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
})
