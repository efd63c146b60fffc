/**
 * Hostile input for the weight record decoders (`decodeWeightRecord` and the
 * incremental `WeightRecordDecoder` / `decodeWeightRecordStream` behind
 * `/edge-mesh/fedavg/1.0.0` and checkpoints): random bytes, random bytes
 * behind a valid record header, and valid records damaged by several edits,
 * whole and in random chunkings. Each input decodes to a record within the
 * limits, holding no more data than it was sent, or throws a named error;
 * headers that declare more than the limits are refused before allocating.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  WeightRecordDecoder, decodeWeightRecord, decodeWeightRecordStream, encodeWeightRecordToBytes
} from '../../../src/federated/weights/codec.js'
import {
  MiB, RUNS, arrayBufferGrowth, chunked, cutsArb, expectConsistentTensor, mutated, slowly, tensorBytes, thrownName,
  valueOrNamedError, valueOrNamedErrorAsync, withPrefix
} from './fuzz.js'
import type { DecodeLimits } from '../../../src/federated/weights/codec.js'
import type { NamedTensor, WeightRecord } from '../../../src/model/types.js'

const ERRORS = ['InvalidMessageError', 'MessageTooLargeError']
const LIMITS: Required<DecodeLimits> = { maxBytes: 1 << 16, maxTensors: 16, maxRank: 4 }
const HEADER = [0x45, 0x4d, 0x57, 0x52, 1, 0, 0, 0]

const tensorArb: fc.Arbitrary<NamedTensor> = fc.tuple(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }),
  fc.constantFrom('float32' as const, 'int32' as const)
).map(([name, shape, dtype]) => {
  const n = shape.reduce((a, b) => a * b, 1)
  const data = dtype === 'float32' ? Float32Array.from({ length: n }, (_, i) => i / 7) : Int32Array.from({ length: n }, (_, i) => i * 31)
  return { name, shape, dtype, data }
})

const validArb = fc.uniqueArray(tensorArb, { maxLength: 6, selector: t => t.name }).map(encodeWeightRecordToBytes)

/** A decoded record respects the limits and holds no more tensor bytes than the input. */
function check (input: Uint8Array, record: WeightRecord | undefined): void {
  if (record == null) return
  expect(record.length).toBeLessThanOrEqual(LIMITS.maxTensors)
  for (const t of record) {
    expect(t.shape.length).toBeLessThanOrEqual(LIMITS.maxRank)
    expectConsistentTensor(t)
  }
  expect(tensorBytes(record)).toBeLessThanOrEqual(input.length)
}

const decodeWhole = (bytes: Uint8Array): void => { check(bytes, valueOrNamedError(() => decodeWeightRecord(bytes, LIMITS), ERRORS)) }

/** Push the chunks one by one into the incremental decoder, then finish. */
function decodeChunks (bytes: Uint8Array, cuts: number[]): void {
  check(bytes, valueOrNamedError(() => {
    const decoder = new WeightRecordDecoder(LIMITS)
    for (const chunk of chunked(bytes, cuts)) decoder.push(chunk)
    return decoder.finish()
  }, ERRORS))
}

/** A record header declaring one tensor named "x" with the given dims and no data. */
function recordClaiming (dims: number[], count = 1): Uint8Array {
  const out = new Uint8Array(12 + 2 + 1 + 2 + 4 * dims.length)
  const view = new DataView(out.buffer)
  out.set(HEADER)
  view.setUint32(8, count, true)
  out.set([1, 0, 0x78, 1, dims.length], 12)
  dims.forEach((d, i) => { view.setUint32(17 + 4 * i, d, true) })
  return out
}

describe('hostile weight records, whole', () => {
  it(`${RUNS} random byte strings decode within the limits or throw a named error`, () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), decodeWhole), { numRuns: RUNS })
  })

  it(`${RUNS} random byte strings behind a valid record header decode within the limits or throw a named error`, () => {
    fc.assert(fc.property(withPrefix(HEADER, 400), decodeWhole), { numRuns: RUNS })
  })

  it(`${RUNS} mutated valid records decode within the limits or throw a named error`, () => {
    fc.assert(fc.property(mutated(validArb), decodeWhole), { numRuns: RUNS })
  })
})

describe('hostile weight records, streamed in random chunkings', () => {
  it('valid records decode the same whatever the chunking', () => {
    fc.assert(fc.property(validArb, cutsArb, (bytes, cuts) => {
      const decoder = new WeightRecordDecoder(LIMITS)
      for (const chunk of chunked(bytes, cuts)) decoder.push(chunk)
      expect(decoder.finish()).toEqual(decodeWeightRecord(bytes, LIMITS))
    }), { numRuns: 1000 })
  })

  it(`${RUNS} random byte streams behind a valid header end in a record or a named error`, () => {
    fc.assert(fc.property(withPrefix(HEADER, 400), cutsArb, decodeChunks), { numRuns: RUNS })
  })

  it(`${RUNS} mutated valid records end in a record or a named error`, () => {
    fc.assert(fc.property(mutated(validArb), cutsArb, decodeChunks), { numRuns: RUNS })
  })

  it('the async stream decoder terminates on mutated records delivered like a socket', async () => {
    await fc.assert(fc.asyncProperty(mutated(validArb), cutsArb, async (bytes, cuts) => {
      check(bytes, await valueOrNamedErrorAsync(async () => await decodeWeightRecordStream(slowly(chunked(bytes, cuts)), LIMITS), ERRORS))
    }), { numRuns: 2000 })
  })
})

describe('weight record limits hold before allocation', () => {
  it('refuses declared sizes above maxBytes at the header, without allocating', async () => {
    const claims = [
      recordClaiming([0xffff_ffff, 0xffff_ffff, 0xffff_ffff]),
      recordClaiming([16 * 1024 * 1024 + 1]), // 64 MiB + 4 bytes of float32
      recordClaiming([1], 0xffff_ffff)
    ]
    const growth = await arrayBufferGrowth(() => {
      for (const bytes of claims) expect(thrownName(() => decodeWeightRecord(bytes))).toBe('MessageTooLargeError')
    })
    expect(growth).toBeLessThan(MiB)
  })

  it('a tensor declared within the limit but never sent is not allocated', async () => {
    const decoder = new WeightRecordDecoder()
    const growth = await arrayBufferGrowth(() => {
      decoder.push(recordClaiming([15 * 1024 * 1024])) // 60 MiB declared, under the 64 MiB default
      decoder.push(new Uint8Array(1024))
      expect(thrownName(() => decoder.finish())).toBe('InvalidMessageError')
    })
    expect(growth).toBeLessThan(MiB)
  })

  it('refuses a stream as soon as it carries more than maxBytes', () => {
    const decoder = new WeightRecordDecoder({ maxBytes: 4096 })
    decoder.push(recordClaiming([1000])) // 4000 data bytes declared: the record fits the limit
    expect(thrownName(() => { decoder.push(new Uint8Array(5000)) })).toBe('MessageTooLargeError')
  })
})
