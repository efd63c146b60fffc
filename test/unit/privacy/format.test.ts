import { describe, expect, it } from 'vitest'
import { formatBytes, formatRoundBytes, formatRoundPrivacy } from '../../../src/federated/privacy/format.js'
import { roundLine } from '../../../src/cli/commands/train.js'

describe('privacy figures in the progress line', () => {
  it('shows epsilon and delta for a DP round and nothing otherwise', () => {
    expect(formatRoundPrivacy({ epsilon: 1.2345, delta: 1e-5 })).toBe('  ε 1.23 (δ 0.00001)')
    expect(formatRoundPrivacy({ epsilon: Infinity, delta: 1e-5 })).toBe('  ε ∞ (δ 0.00001)')
    expect(formatRoundPrivacy({})).toBe('')
  })

  it('shows the bytes of updates received', () => {
    expect(formatBytes(999)).toBe('999 B')
    expect(formatBytes(199_270)).toBe('199 kB')
    expect(formatBytes(1_594_000)).toBe('1.59 MB')
    expect(formatRoundBytes({ bytesUp: 16_004 })).toBe('  up 16.0 kB')
  })

  it('is what train and experiment print per round', () => {
    const line = roundLine({ round: 2, accuracy: 0.9, loss: 0.3, participants: 3, participantIds: [], failures: 0, failureReasons: [], wallMs: 1, bytesUp: 600_000, bytesDown: 1, globalModelId: 'sha256-ab', epsilon: 2.5, delta: 1e-5 }, 5)
    expect(line).toContain('ε 2.50 (δ 0.00001)')
    expect(line).toContain('up 600 kB')
  })
})
