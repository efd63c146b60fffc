import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeLoadReport, encodeLoadReport } from '../../../src/gossip/codec.js'
import { MAX_REPORT_BYTES } from '../../../src/gossip/constants.js'
import type { LoadReport } from '../../../src/gossip/types.js'

const report: LoadReport = {
  seq: 1_700_000_000_123,
  timestamp: 1_700_000_000_456,
  cpu: 0.4217,
  memFree: 8_123_456_789,
  inFlight: 3,
  queued: 7,
  capacity: 4,
  backend: 'wasm',
  models: ['sha256-' + 'ab'.repeat(32), 'sha256-' + 'cd'.repeat(32)],
  training: true,
  canTrain: true,
  role: 'seed',
  name: 'laptop-1',
  addrs: ['/ip4/192.168.1.10/tcp/4010', '/ip6/::1/tcp/4011']
}

function expectNamedError (fn: () => unknown, names: string[]): void {
  try {
    fn()
  } catch (err: any) {
    expect(names).toContain(err.name)
    return
  }
  throw new Error('expected an error')
}

describe('load report codec', () => {
  it('round-trips every field', () => {
    const decoded = decodeLoadReport(encodeLoadReport(report))
    expect(decoded).toEqual({ ...report, cpu: 0.4217 })
  })

  it('is compact', () => {
    expect(encodeLoadReport(report).length).toBeLessThan(260)
  })

  it('clamps out-of-range numbers instead of writing garbage', () => {
    const decoded = decodeLoadReport(encodeLoadReport({ ...report, cpu: 7, inFlight: -3, queued: 1e9 }))
    expect(decoded.cpu).toBe(1)
    expect(decoded.inFlight).toBe(0)
    expect(decoded.queued).toBe(0xffff)
  })

  it('rejects truncated input at every length', () => {
    const bytes = encodeLoadReport(report)
    for (let n = 0; n < bytes.length; n++) {
      expectNamedError(() => decodeLoadReport(bytes.subarray(0, n)), ['InvalidMessageError'])
    }
  })

  it('rejects trailing bytes, unknown versions, unknown flags and cpu above 100%', () => {
    const bytes = encodeLoadReport(report)
    expectNamedError(() => decodeLoadReport(new Uint8Array([...bytes, 0])), ['InvalidMessageError'])
    const badVersion = bytes.slice(); badVersion[0] = 3
    expectNamedError(() => decodeLoadReport(badVersion), ['InvalidMessageError'])
    const badFlags = bytes.slice(); badFlags[1] = 0x80
    expectNamedError(() => decodeLoadReport(badFlags), ['InvalidMessageError'])
    const badCpu = bytes.slice(); badCpu[18] = 0xff; badCpu[19] = 0xff
    expectNamedError(() => decodeLoadReport(badCpu), ['InvalidMessageError'])
  })

  it('rejects oversized input before parsing it', () => {
    expectNamedError(() => decodeLoadReport(new Uint8Array(MAX_REPORT_BYTES + 1)), ['MessageTooLargeError'])
  })

  it('refuses to encode fields beyond their limits', () => {
    expectNamedError(() => encodeLoadReport({ ...report, name: 'x'.repeat(65) }), ['MessageTooLargeError'])
    expectNamedError(() => encodeLoadReport({ ...report, models: new Array(33).fill('m') }), ['MessageTooLargeError'])
  })

  it('returns a report or throws a named error for any bytes (random and mutated)', () => {
    const valid = encodeLoadReport(report)
    const mutated = fc.tuple(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 }))
      .map(([i, b]) => { const copy = valid.slice(); copy[i] = b; return copy })
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), mutated), (bytes) => {
      try {
        const decoded = decodeLoadReport(bytes)
        expect(decoded.models.length).toBeLessThanOrEqual(32)
      } catch (err: any) {
        expect(['InvalidMessageError', 'MessageTooLargeError']).toContain(err.name)
      }
    }), { numRuns: 10_000 })
  })
})

describe('load report codec, version 2 (heartbeat interval)', () => {
  it('round-trips the heartbeat interval and writes version 2', () => {
    const bytes = encodeLoadReport({ ...report, intervalMs: 25_000 })
    expect(bytes[0]).toBe(2)
    expect(decodeLoadReport(bytes).intervalMs).toBe(25_000)
  })

  it('still decodes a version 1 report (no interval field)', () => {
    const v2 = encodeLoadReport(report)
    const v1 = new Uint8Array(v2.length - 4)
    v1.set(v2.subarray(0, 34))
    v1.set(v2.subarray(38), 34)
    v1[0] = 1
    const decoded = decodeLoadReport(v1)
    expect(decoded.intervalMs).toBeUndefined()
    expect(decoded).toEqual({ ...report, cpu: 0.4217 })
  })

  it('rejects an interval above the limit', () => {
    const bytes = encodeLoadReport(report)
    new DataView(bytes.buffer).setUint32(34, 3_600_001)
    expectNamedError(() => decodeLoadReport(bytes), ['InvalidMessageError'])
  })
})
