import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeWeightRecord, decodeWeightRecordStream, encodeWeightRecord, encodeWeightRecordToBytes, encodedWeightRecordSize, WeightRecordDecoder
} from '../../../src/federated/weights/codec.js'
import { record } from './helpers.js'
import type { NamedTensor, WeightRecord } from '../../../src/model/types.js'

const tensorArb: fc.Arbitrary<NamedTensor> = fc.tuple(
  fc.string({ minLength: 1, maxLength: 20 }),
  fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }),
  fc.constantFrom('float32' as const, 'int32' as const),
  fc.integer({ min: 0, max: 2 ** 31 - 1 })
).map(([name, shape, dtype, seed]) => {
  const n = shape.reduce((a, b) => a * b, 1)
  const data = dtype === 'float32'
    ? Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(seed + i) * 1e3))
    : Int32Array.from({ length: n }, (_, i) => (seed * 31 + i * 7919) | 0)
  return { name, shape, dtype, data }
})

const recordArb: fc.Arbitrary<WeightRecord> = fc.uniqueArray(tensorArb, { maxLength: 6, selector: (t) => t.name })

const errorName = (fn: () => unknown): string | undefined => {
  try { fn() } catch (err: any) { return err.name }
  return undefined
}

describe('weight record codec', () => {
  it('round-trips random records, exactly, whatever the chunking', () => {
    fc.assert(fc.property(recordArb, fc.integer({ min: 4, max: 64 }), (rec, chunkBytes) => {
      const bytes = encodeWeightRecordToBytes(rec)
      expect(bytes.length).toBe(encodedWeightRecordSize(rec))
      expect(decodeWeightRecord(bytes)).toEqual(rec)
      const decoder = new WeightRecordDecoder()
      for (const chunk of encodeWeightRecord(rec, { chunkBytes })) {
        // split further into odd pieces to exercise partial headers
        for (let i = 0; i < chunk.length; i += 3) decoder.push(chunk.slice(i, i + 3))
      }
      expect(decoder.finish()).toEqual(rec)
    }), { numRuns: 300 })
  })

  it('writes exactly the bytes documented in docs/protocols.md', () => {
    const bytes = encodeWeightRecordToBytes([{ name: 'b', shape: [2], dtype: 'float32', data: Float32Array.from([1, 2]) }])
    expect(Array.from(bytes)).toEqual([
      0x45, 0x4D, 0x57, 0x52, 1, 0, 0, 0, 1, 0, 0, 0,
      1, 0, 0x62, 1, 1, 2, 0, 0, 0,
      0, 0, 0x80, 0x3F, 0, 0, 0, 0x40
    ])
  })

  it('decodes a stream of chunks', async () => {
    const rec = record([1, 2, 3, 4, 5, 6])
    expect(await decodeWeightRecordStream(encodeWeightRecord(rec, { chunkBytes: 4 }))).toEqual(rec)
  })

  it('yields data chunks no larger than chunkBytes', () => {
    const rec: WeightRecord = [{ name: 'big', shape: [1000], dtype: 'float32', data: new Float32Array(1000) }]
    const sizes = [...encodeWeightRecord(rec, { chunkBytes: 1024 })].map((c) => c.length)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1024)
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(encodedWeightRecordSize(rec))
  })

  it('throws only named errors on random mutations and truncations, never anything else', () => {
    fc.assert(fc.property(recordArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), (rec, flips, cut) => {
      const bytes = encodeWeightRecordToBytes(rec)
      const mutated = bytes.slice()
      for (const [pos, value] of flips) mutated[pos % mutated.length] = value
      for (const input of [mutated, bytes.subarray(0, cut % bytes.length)]) {
        try {
          const out = decodeWeightRecord(input, { maxBytes: 1 << 20 })
          // a mutation that still decodes must describe a consistent record
          for (const t of out) expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1))
        } catch (err: any) {
          expect(['InvalidMessageError', 'MessageTooLargeError']).toContain(err.name)
        }
      }
    }), { numRuns: 500 })
  })

  it('throws only named errors on random garbage', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const withMagic = new Uint8Array([0x45, 0x4D, 0x57, 0x52, 1, 0, 0, 0, ...bytes])
      for (const input of [bytes, withMagic]) {
        try { decodeWeightRecord(input) } catch (err: any) { expect(['InvalidMessageError', 'MessageTooLargeError']).toContain(err.name) }
      }
    }), { numRuns: 500 })
  })

  it('rejects truncated input with InvalidMessageError', () => {
    const bytes = encodeWeightRecordToBytes(record([1, 2, 3, 4, 5, 6]))
    for (let cut = 0; cut < bytes.length; cut++) expect(errorName(() => decodeWeightRecord(bytes.subarray(0, cut)))).toBe('InvalidMessageError')
  })

  it('rejects trailing bytes, bad magic, bad version, unknown dtype and duplicate names', () => {
    const bytes = encodeWeightRecordToBytes(record([1, 2, 3, 4, 5, 6]))
    expect(errorName(() => decodeWeightRecord(new Uint8Array([...bytes, 0])))).toBe('InvalidMessageError')
    const badMagic = bytes.slice(); badMagic[0] = 0
    expect(errorName(() => decodeWeightRecord(badMagic))).toBe('InvalidMessageError')
    const badVersion = bytes.slice(); badVersion[4] = 9
    expect(errorName(() => decodeWeightRecord(badVersion))).toBe('InvalidMessageError')
    const badDtype = bytes.slice(); badDtype[12 + 2 + 1] = 7 // first tensor, name "w" (1 byte)
    expect(errorName(() => decodeWeightRecord(badDtype))).toBe('InvalidMessageError')
    const rec = record([1, 2, 3, 4, 5, 6])
    const dup = encodeWeightRecordToBytes([rec[1], { ...rec[1], name: 'c' }])
    dup[dup.indexOf(0x63)] = 0x62 // rename "c" to "b"
    expect(errorName(() => decodeWeightRecord(dup))).toBe('InvalidMessageError')
  })

  it('enforces limits before allocating: tensors, bytes, rank', () => {
    const rec = record([1, 2, 3, 4, 5, 6])
    const bytes = encodeWeightRecordToBytes(rec)
    expect(errorName(() => decodeWeightRecord(bytes, { maxTensors: 1 }))).toBe('MessageTooLargeError')
    expect(errorName(() => decodeWeightRecord(bytes, { maxBytes: bytes.length - 1 }))).toBe('MessageTooLargeError')
    expect(errorName(() => decodeWeightRecord(bytes, { maxRank: 1 }))).toBe('InvalidMessageError')
    // a header declaring a 4 x 2^32 x 2^32 tensor with no data must fail fast
    const huge = new Uint8Array([0x45, 0x4D, 0x57, 0x52, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0x78, 1, 3, 4, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255])
    expect(errorName(() => decodeWeightRecord(huge))).toBe('MessageTooLargeError')
    const manyTensors = new Uint8Array([0x45, 0x4D, 0x57, 0x52, 1, 0, 0, 0, 255, 255, 255, 255])
    expect(errorName(() => decodeWeightRecord(manyTensors))).toBe('MessageTooLargeError')
  })

  it('rejects a stream larger than maxBytes as it arrives', () => {
    const decoder = new WeightRecordDecoder({ maxBytes: 100 })
    expect(errorName(() => { decoder.push(new Uint8Array(101)) })).toBe('MessageTooLargeError')
  })

  it('refuses to encode malformed records with InvalidTensorError', () => {
    const bad: WeightRecord = [{ name: 'w', shape: [3], dtype: 'float32', data: new Float32Array(2) }]
    expect(errorName(() => encodeWeightRecordToBytes(bad))).toBe('InvalidTensorError')
    expect(errorName(() => encodeWeightRecordToBytes([{ ...bad[0], name: '', data: new Float32Array(3) }]))).toBe('InvalidTensorError')
  })
})
