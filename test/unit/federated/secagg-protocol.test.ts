/**
 * The secure aggregation messages of `/edge-mesh/fedavg/1.0.0` (types
 * 20-27): every message survives a round trip, and malformed or oversized
 * headers are refused with InvalidMessageError / MessageTooLargeError before
 * anything reaches a session.
 */
import { describe, expect, it } from 'vitest'
import { decodeMessage, encodeMessage } from '../../../src/federated/mesh/protocol/messages.js'
import { setupConfig } from '../../../src/federated/mesh/secagg-participant.js'
import type { FedMessage } from '../../../src/federated/mesh/protocol/messages.js'
import type { SecAggSetupMessage } from '../../../src/federated/mesh/protocol/secagg-messages.js'

const bytes = (n: number, fill = 7): Uint8Array => new Uint8Array(n).fill(fill)
const REF = { runId: 'run-1', round: 2, attempt: 1, clientIndex: 0 }
const SETUP: SecAggSetupMessage = {
  type: 'secagg-setup', ...REF, version: 1, baseModelId: 'sha256-00', epochs: 1, batchSize: 20, learningRate: 0.1, proximalMu: 0, seed: 9,
  deadlineMs: 60_000, id: 3, clients: 10, degree: 8, threshold: 5, graphSeed: 77, vectorLength: 199_210, bound: 1, maxTotalWeight: 65_536, stageTimeoutMs: 10_000
}

const MESSAGES: FedMessage[] = [
  SETUP,
  { type: 'secagg-keys', numExamples: 200, cPk: bytes(32, 1), sPk: bytes(32, 2) },
  { type: 'secagg-neighbours', ...REF, keys: [{ id: 1, cPk: bytes(32, 3), sPk: bytes(32, 4) }] },
  { type: 'secagg-shares', shares: [{ to: 1, ciphertext: bytes(156) }] },
  { type: 'secagg-inbox', ...REF, shares: [{ from: 1, ciphertext: bytes(156) }] },
  { type: 'secagg-masked', loss: 0.5, accuracy: 0.75, trainMs: 12, weightBytes: 796_900 },
  { type: 'secagg-unmask', ...REF, survivors: [1, 2, 3], dropped: [4] },
  { type: 'secagg-reveal', selfShares: [{ of: 1, y: bytes(66) }], keyShares: [{ of: 4, y: bytes(66, 9) }] }
]

/** A control frame of `type` with this raw JSON header. */
function frame (type: number, header: unknown): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify(header))
  return Uint8Array.from([1, type, ...body])
}

function headerOf (m: FedMessage): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(encodeMessage(m).subarray(2)))
}

describe('secagg messages', () => {
  it.each(MESSAGES.map((m) => [m.type, m]))('%s round-trips', (_t, m) => {
    expect(decodeMessage(encodeMessage(m))).toEqual(m)
  })

  it('carries keys and shares as base64', () => {
    expect(headerOf(MESSAGES[1])).toMatchObject({ cPk: Buffer.from(bytes(32, 1)).toString('base64') })
  })

  it.each([
    ['a key of the wrong length', 21, { numExamples: 1, cPk: Buffer.from(bytes(31)).toString('base64'), sPk: Buffer.from(bytes(32)).toString('base64') }],
    ['a key that is not a string', 21, { numExamples: 1, cPk: [1, 2], sPk: Buffer.from(bytes(32)).toString('base64') }],
    ['non-canonical base64', 21, { numExamples: 1, cPk: 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwd=', sPk: Buffer.from(bytes(32)).toString('base64') }],
    ['base64 with foreign characters', 21, { numExamples: 1, cPk: '!'.repeat(44), sPk: Buffer.from(bytes(32)).toString('base64') }],
    ['more shares than neighbours allowed', 23, { shares: Array.from({ length: 33 }, (_, i) => ({ to: i + 1, ciphertext: Buffer.from(bytes(156)).toString('base64') })) }],
    ['a share for client 0', 23, { shares: [{ to: 0, ciphertext: Buffer.from(bytes(156)).toString('base64') }] }],
    ['a share that is not an object', 23, { shares: ['x'] }],
    ['a ciphertext of the wrong length', 24, { ...REF, shares: [{ from: 1, ciphertext: Buffer.from(bytes(155)).toString('base64') }] }],
    ['a degree above 32', 20, { ...headerOf(SETUP), degree: 33 }],
    ['a round of one client', 20, { ...headerOf(SETUP), clients: 1 }],
    ['a bad run id', 26, { ...REF, runId: '../x', survivors: [1], dropped: [] }],
    ['a survivor id above 1024', 26, { ...REF, survivors: [1025], dropped: [] }],
    ['a missing share list', 27, { selfShares: [] }]
  ])('refuses %s', (_why, type, header) => {
    expect(() => decodeMessage(frame(type, header))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
  })

  it('refuses a frame over 16 KiB', () => {
    const huge = frame(26, { ...REF, survivors: [1], dropped: [], pad: 'x'.repeat(17_000) })
    expect(() => decodeMessage(huge)).toThrow(expect.objectContaining({ name: 'MessageTooLargeError' }))
  })

  it('fits the largest reply in a control frame', () => {
    const shares = Array.from({ length: 32 }, (_, i) => ({ to: 1000 + i, ciphertext: bytes(156) }))
    expect(encodeMessage({ type: 'secagg-shares', shares }).length).toBeLessThan(16 * 1024)
    const list = Array.from({ length: 1024 }, (_, i) => i + 1)
    expect(encodeMessage({ type: 'secagg-unmask', ...REF, survivors: list.slice(0, 900), dropped: list.slice(900) }).length).toBeLessThan(16 * 1024)
  })

  it('checks a setup for consistency', () => {
    expect(setupConfig(SETUP).ids).toHaveLength(10)
    expect(() => setupConfig({ ...SETUP, id: 11 })).toThrow(expect.objectContaining({ name: 'ProtocolError' }))
    expect(() => setupConfig({ ...SETUP, degree: 10 })).toThrow(expect.objectContaining({ name: 'ProtocolError' }))
    expect(() => setupConfig({ ...SETUP, threshold: 9 })).toThrow(expect.objectContaining({ name: 'ProtocolError' }))
  })
})
