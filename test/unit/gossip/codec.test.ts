import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeLoadReport, encodeLoadReport } from '../../../src/gossip/codec.js'
import { MAX_NEIGHBOURS, MAX_REPORT_BYTES } from '../../../src/gossip/constants.js'
import type { LoadReport } from '../../../src/gossip/types.js'

/** Ed25519 peer ids (keys from the seeds 0x01…, 0x02…, 0x03…). */
const PEER_1 = '12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5'
const PEER_2 = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'
const PEER_3 = '12D3KooWRndVhVZPCiQwHBBBdg769GyrPUW13zxwqQyf9r3ANaba'

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
  addrs: ['/ip4/192.168.1.10/tcp/4010', '/ip6/::1/tcp/4011'],
  traffic: { servedLocally: 288, servedRemotely: 41, servedForPeers: 7 },
  connections: 2,
  neighbours: [PEER_1, PEER_2]
}

/** The same report without the version 3 fields (what a version 1 or 2 report decodes to). */
const { traffic: _traffic, connections: _connections, neighbours: _neighbours, ...before3 } = report

/** Bytes of the version 3 trailer for `report`: 12 counter bytes, 2 connection bytes, a count and 2 x (1 + 38) id bytes. */
const TRAILER_BYTES = 12 + 2 + 1 + 2 * 39

/** `report` encoded as a version 2 node sent it: the version 3 bytes without the trailer. */
function asVersion2 (bytes: Uint8Array): Uint8Array {
  const v2 = bytes.slice(0, bytes.length - TRAILER_BYTES)
  v2[0] = 2
  return v2
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
    expect(encodeLoadReport(report).length).toBeLessThan(360)
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
    const badVersion = bytes.slice(); badVersion[0] = 4
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
  it('round-trips the heartbeat interval', () => {
    const bytes = encodeLoadReport({ ...report, intervalMs: 25_000 })
    expect(decodeLoadReport(bytes).intervalMs).toBe(25_000)
  })

  it('still decodes a version 2 report (no traffic, no neighbours)', () => {
    const decoded = decodeLoadReport(asVersion2(encodeLoadReport({ ...report, intervalMs: 25_000 })))
    expect(decoded).toEqual({ ...before3, intervalMs: 25_000 })
    expect(decoded.neighbours).toBeUndefined()
  })

  it('still decodes a version 1 report (no interval field)', () => {
    const v2 = asVersion2(encodeLoadReport(report))
    const v1 = new Uint8Array(v2.length - 4)
    v1.set(v2.subarray(0, 34))
    v1.set(v2.subarray(38), 34)
    v1[0] = 1
    const decoded = decodeLoadReport(v1)
    expect(decoded.intervalMs).toBeUndefined()
    expect(decoded).toEqual(before3)
  })

  it('rejects an interval above the limit', () => {
    const bytes = encodeLoadReport(report)
    new DataView(bytes.buffer).setUint32(34, 3_600_001)
    expectNamedError(() => decodeLoadReport(bytes), ['InvalidMessageError'])
  })
})

describe('load report codec, version 3 (traffic and neighbours)', () => {
  it('writes version 3 with the trailer after the addresses', () => {
    const bytes = encodeLoadReport(report)
    expect(bytes[0]).toBe(3)
    const trailer = new DataView(bytes.buffer, bytes.length - TRAILER_BYTES)
    expect([trailer.getUint32(0), trailer.getUint32(4), trailer.getUint32(8), trailer.getUint16(12), trailer.getUint8(14)]).toEqual([288, 41, 7, 2, 2])
    expect(trailer.getUint8(15)).toBe(38)
  })

  it('writes zeros and no neighbours when the fields are absent', () => {
    expect(decodeLoadReport(encodeLoadReport(before3))).toMatchObject({ traffic: { servedLocally: 0, servedRemotely: 0, servedForPeers: 0 }, connections: 0, neighbours: [] })
  })

  it('saturates counters at 2^32-1 and counts at least the listed neighbours as connections', () => {
    const decoded = decodeLoadReport(encodeLoadReport({ ...report, traffic: { servedLocally: 2 ** 40, servedRemotely: -1, servedForPeers: 1.7 }, connections: 0 }))
    expect(decoded.traffic).toEqual({ servedLocally: 0xffff_ffff, servedRemotely: 0, servedForPeers: 1 })
    expect(decoded.connections).toBe(2)
  })

  it(`lists at most ${MAX_NEIGHBOURS} neighbours and refuses to encode more`, () => {
    const many = Array.from({ length: MAX_NEIGHBOURS }, (_, i) => [PEER_1, PEER_2, PEER_3][i % 3])
    expectNamedError(() => encodeLoadReport({ ...report, neighbours: [...many, PEER_1] }), ['MessageTooLargeError'])
    expectNamedError(() => encodeLoadReport({ ...report, neighbours: ['not-a-peer-id'] }), ['MessageTooLargeError'])
  })

  it('keeps a full report within the size limit', () => {
    const neighbours = Array.from({ length: MAX_NEIGHBOURS }, () => PEER_3)
    const models = Array.from({ length: 32 }, (_, i) => 'sha256-' + i.toString(16).padStart(64, '0'))
    expect(() => encodeLoadReport({ ...report, models, neighbours, connections: 300 })).not.toThrow()
  })

  it('rejects a neighbour count above the limit, above the connections, a bad id and a duplicate', () => {
    const bytes = encodeLoadReport(report)
    const at = bytes.length - TRAILER_BYTES
    const tooMany = bytes.slice(); tooMany[at + 14] = MAX_NEIGHBOURS + 1
    expectNamedError(() => decodeLoadReport(tooMany), ['InvalidMessageError'])
    const fewConnections = bytes.slice(); fewConnections[at + 13] = 1
    expectNamedError(() => decodeLoadReport(fewConnections), ['InvalidMessageError'])
    const badCode = bytes.slice(); badCode[at + 16] = 0x55
    expectNamedError(() => decodeLoadReport(badCode), ['InvalidMessageError'])
    const badLength = bytes.slice(); badLength[at + 17] = 35
    expectNamedError(() => decodeLoadReport(badLength), ['InvalidMessageError'])
    const twice = encodeLoadReport({ ...report, neighbours: [PEER_1, PEER_2] })
    twice.set(twice.subarray(twice.length - 39), twice.length - 78)
    expectNamedError(() => decodeLoadReport(twice), ['InvalidMessageError'])
  })
})
