/**
 * Hostile input for the load report decoder (`/edge-mesh/load/1`, gossip):
 * random bytes, random bytes behind a valid version/flags prefix, and valid
 * reports of every shape damaged by several edits. Each input decodes to a
 * report within the documented limits or throws a named error.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeLoadReport, encodeLoadReport } from '../../../src/gossip/codec.js'
import {
  LOAD_REPORT_VERSION, MAX_ADDRS, MAX_NEIGHBOURS, MAX_BACKEND_BYTES, MAX_MODELS, MAX_MODEL_ID_BYTES, MAX_NAME_BYTES, MAX_REPORT_BYTES
} from '../../../src/gossip/constants.js'
import { MiB, RUNS, arrayBufferGrowth, mutated, thrownName, valueOrNamedError, withPrefix } from './fuzz.js'
import type { LoadReport } from '../../../src/gossip/types.js'

const ERRORS = ['InvalidMessageError', 'MessageTooLargeError']
const utf8Length = (s: string): number => new TextEncoder().encode(s).length

/** A string of at most `maxBytes` UTF-8 bytes. */
const textArb = (maxBytes: number): fc.Arbitrary<string> =>
  fc.string({ unit: 'grapheme', maxLength: maxBytes }).filter(s => utf8Length(s) <= maxBytes)

const addrArb = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 65535 }))
    .map(([a, b, port]) => `/ip4/10.${a}.${b}.1/tcp/${port}`),
  fc.integer({ min: 1, max: 65535 }).map(port => `/ip6/::1/tcp/${port}`),
  fc.integer({ min: 1, max: 65535 }).map(port => `/dns4/node.example/tcp/${port}`)
)

const reportArb: fc.Arbitrary<LoadReport> = fc.record({
  seq: fc.nat(),
  timestamp: fc.nat(),
  cpu: fc.double({ min: 0, max: 1, noNaN: true }),
  memFree: fc.nat(),
  inFlight: fc.nat({ max: 0xffff }),
  queued: fc.nat({ max: 0xffff }),
  capacity: fc.nat({ max: 0xffff }),
  backend: textArb(MAX_BACKEND_BYTES),
  models: fc.array(textArb(MAX_MODEL_ID_BYTES), { maxLength: 6 }),
  training: fc.boolean(),
  canTrain: fc.boolean(),
  role: fc.constantFrom('edge' as const, 'seed' as const),
  name: textArb(MAX_NAME_BYTES),
  addrs: fc.array(addrArb, { maxLength: 4 }),
  traffic: fc.record({ servedLocally: fc.nat(), servedRemotely: fc.nat(), servedForPeers: fc.nat() }),
  connections: fc.nat({ max: 0xffff }),
  neighbours: fc.subarray([
    '12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5', '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq', '12D3KooWRndVhVZPCiQwHBBBdg769GyrPUW13zxwqQyf9r3ANaba'
  ])
})

const validArb = reportArb.map(encodeLoadReport)

/** A decoded report must respect every limit of the layout. */
function expectWithinLimits (report: LoadReport | undefined): void {
  if (report == null) return
  expect(report.models.length).toBeLessThanOrEqual(MAX_MODELS)
  expect(report.addrs.length).toBeLessThanOrEqual(MAX_ADDRS)
  expect(report.neighbours?.length ?? 0).toBeLessThanOrEqual(MAX_NEIGHBOURS)
  expect(utf8Length(report.name)).toBeLessThanOrEqual(MAX_NAME_BYTES)
  expect(utf8Length(report.backend)).toBeLessThanOrEqual(MAX_BACKEND_BYTES)
  expect(report.cpu).toBeGreaterThanOrEqual(0)
  expect(report.cpu).toBeLessThanOrEqual(1)
  expect(Number.isSafeInteger(report.seq) && Number.isSafeInteger(report.timestamp) && Number.isSafeInteger(report.memFree)).toBe(true)
}

describe('hostile load reports', () => {
  it('valid reports of every shape round trip', () => {
    fc.assert(fc.property(reportArb, (report) => {
      const decoded = decodeLoadReport(encodeLoadReport(report))
      expect(decoded.models).toEqual(report.models)
      expect(decoded.addrs.length).toBe(report.addrs.length)
      expect(decoded.neighbours).toEqual(report.neighbours)
    }), { numRuns: 1000 })
  })

  it(`${RUNS} random byte strings decode within limits or throw a named error`, () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      expectWithinLimits(valueOrNamedError(() => decodeLoadReport(bytes), ERRORS))
    }), { numRuns: RUNS })
  })

  it(`${RUNS} random byte strings behind a valid version byte decode within limits or throw a named error`, () => {
    fc.assert(fc.property(withPrefix([LOAD_REPORT_VERSION], 400), (bytes) => {
      expectWithinLimits(valueOrNamedError(() => decodeLoadReport(bytes), ERRORS))
    }), { numRuns: RUNS })
  })

  it(`${RUNS} mutated valid reports decode within limits or throw a named error`, () => {
    fc.assert(fc.property(mutated(validArb), (bytes) => {
      expectWithinLimits(valueOrNamedError(() => decodeLoadReport(bytes), ERRORS))
    }), { numRuns: RUNS })
  })

  it('refuses a report above the size limit before reading it, without allocating', async () => {
    const huge = new Uint8Array(MAX_REPORT_BYTES + 1)
    huge[0] = LOAD_REPORT_VERSION
    const growth = await arrayBufferGrowth(() => { expect(thrownName(() => decodeLoadReport(huge))).toBe('MessageTooLargeError') })
    expect(growth).toBeLessThan(MiB)
  })

  it('refuses counts and lengths above their limits even when the bytes are there', () => {
    const valid = encodeLoadReport({
      seq: 1, timestamp: 1, cpu: 0, memFree: 0, inFlight: 0, queued: 0, capacity: 1, backend: 'cpu', models: [], training: false, canTrain: false, role: 'edge', name: '', addrs: []
    })
    // fixed part is 38 bytes; then backend length, name length, model count, address count and the 15-byte version 3 trailer
    const end = valid.length - 15
    const bigModelCount = Uint8Array.from([...valid.subarray(0, end - 2), 255, ...new Uint8Array(255)])
    expect(thrownName(() => decodeLoadReport(bigModelCount))).toBe('InvalidMessageError')
    const bigAddrCount = Uint8Array.from([...valid.subarray(0, end - 1), 255, ...new Uint8Array(600)])
    expect(thrownName(() => decodeLoadReport(bigAddrCount))).toBe('InvalidMessageError')
    const longBackend = Uint8Array.from([...valid.subarray(0, 38), 255, ...new Uint8Array(255).fill(0x61), 0, 0, 0])
    const bigNeighbourCount = Uint8Array.from([...valid.subarray(0, valid.length - 3), 0xff, 0xff, 255, ...new Uint8Array(255 * 39)])
    expect(thrownName(() => decodeLoadReport(bigNeighbourCount.subarray(0, 4096)))).toBe('InvalidMessageError')
    expect(thrownName(() => decodeLoadReport(longBackend))).toBe('InvalidMessageError')
  })
})
