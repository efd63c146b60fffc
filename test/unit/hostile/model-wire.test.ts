/**
 * Hostile input for model transfer (`/edge-mesh/model/1.0.0`): the control
 * frame decoders (`decodeModelRequest`, `decodeModelHeader`) on random and
 * mutated frames, and the fetcher's streaming read of a response
 * (`requestModel`: framed header then data frames) over random and mutated
 * byte streams delivered in random chunkings. Every input ends in artifacts of
 * exactly the announced size or a named error; a header announcing more than
 * the limit is refused before any data is buffered.
 */
import fc from 'fast-check'
import * as lp from 'it-length-prefixed'
import { describe, expect, it } from 'vitest'
import { MODEL_WIRE_VERSION } from '../../../src/model-transfer/constants.js'
import { MAX_MODEL_ID_BYTES } from '../../../src/wire/constants.js'
import { requestModel } from '../../../src/model-transfer/transfer.js'
import {
  ModelMessageType, decodeModelHeader, decodeModelRequest, encodeErrorHeader, encodeFoundHeader, encodeModelRequest
} from '../../../src/model-transfer/wire.js'
import {
  MiB, RUNS, WIRE_ERRORS, arrayBufferGrowth, chunked, cutsArb, mutated, slowly, thrownName, valueOrNamedError, valueOrNamedErrorAsync, withPrefix
} from './fuzz.js'
import type { Stream } from '@libp2p/interface'
import type { ModelArtifacts } from '../../../src/model/types.js'

const CONTROL_ERRORS = ['InvalidMessageError']
/** What a fetch may fail with: a wire error, or the named error a server's error header carries. */
const FETCH_ERRORS = [...WIRE_ERRORS, 'InternalError', 'ModelNotFoundError', 'PeerBusyError', 'DeadlineExceededError', 'NotStartedError', 'InvalidModelError']
const MAX_MODEL = 4096

const validRequestArb = fc.string({ minLength: 1, maxLength: 60 }).map(encodeModelRequest)
const validHeaderArb = fc.oneof(
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => encodeFoundHeader(a, b)),
  fc.string({ maxLength: 80 }).map(m => encodeErrorHeader(new Error(m)))
)

const frame = (bytes: Uint8Array): Uint8Array => lp.encode.single(bytes).subarray()

/** A whole valid response stream: a found header and the artifacts as data frames of `chunk` bytes. */
const validResponseArb = fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 1500 }), fc.integer({ min: 1, max: 700 }))
  .map(([json, weights, chunk]) => {
    const parts = [frame(encodeFoundHeader(json.length, weights.length))]
    for (const part of [json, weights]) {
      for (let o = 0; o < part.length; o += chunk) parts.push(frame(part.subarray(o, o + chunk)))
    }
    return Uint8Array.from(parts.flatMap(p => [...p]))
  })

/** A stream whose readable side delivers `chunks`; what the fetcher writes is dropped. */
function fakeStream (chunks: Uint8Array[]): Stream {
  return {
    status: 'open',
    send: () => true,
    onDrain: async () => {},
    close: async () => {},
    abort: () => {},
    [Symbol.asyncIterator]: () => slowly(chunks)
  } as unknown as Stream
}

async function fetchFrom (bytes: Uint8Array, cuts: number[], maxModelBytes = MAX_MODEL): Promise<ModelArtifacts | undefined> {
  return await valueOrNamedErrorAsync(async () => await requestModel(fakeStream(chunked(bytes, cuts)), 'm', { maxModelBytes }), FETCH_ERRORS)
}

/** Fetched artifacts must be exactly what the header announced, within the limit. */
function checkArtifacts (bytes: Uint8Array, artifacts: ModelArtifacts | undefined): void {
  if (artifacts == null) return
  const size = artifacts.modelJson.length + artifacts.weights.length
  expect(size).toBeLessThanOrEqual(MAX_MODEL)
  expect(size).toBeLessThanOrEqual(bytes.length)
}

describe('hostile model transfer control frames', () => {
  it(`${RUNS} random byte strings decode or throw InvalidMessageError (request and header)`, () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const id = valueOrNamedError(() => decodeModelRequest(bytes), CONTROL_ERRORS)
      if (id != null) expect(new TextEncoder().encode(id).length).toBeLessThanOrEqual(MAX_MODEL_ID_BYTES)
      valueOrNamedError(() => decodeModelHeader(bytes), CONTROL_ERRORS)
    }), { numRuns: RUNS })
  })

  it(`${RUNS} random byte strings behind valid prefixes decode or throw InvalidMessageError`, () => {
    const prefixed = fc.oneof(
      withPrefix([MODEL_WIRE_VERSION, ModelMessageType.Request], 200),
      withPrefix([MODEL_WIRE_VERSION, ModelMessageType.Found], 16),
      withPrefix([MODEL_WIRE_VERSION, ModelMessageType.Error], 300)
    )
    fc.assert(fc.property(prefixed, (bytes) => {
      valueOrNamedError(() => decodeModelRequest(bytes), CONTROL_ERRORS)
      valueOrNamedError(() => decodeModelHeader(bytes), CONTROL_ERRORS)
    }), { numRuns: RUNS })
  })

  it(`${RUNS} mutated valid requests and headers decode or throw InvalidMessageError`, () => {
    fc.assert(fc.property(mutated(validRequestArb), mutated(validHeaderArb), (request, header) => {
      valueOrNamedError(() => decodeModelRequest(request), CONTROL_ERRORS)
      valueOrNamedError(() => decodeModelHeader(header), CONTROL_ERRORS)
    }), { numRuns: RUNS })
  })

  it('refuses an error message longer than the limit even when the bytes are there', () => {
    const header = new Uint8Array(6 + 0xffff)
    header.set([MODEL_WIRE_VERSION, ModelMessageType.Error, 0, 1, 0xff, 0xff])
    expect(thrownName(() => decodeModelHeader(header))).toBe('InvalidMessageError')
  })
})

describe('hostile model transfer responses (streaming)', () => {
  it('valid responses arrive intact whatever the chunking', async () => {
    await fc.assert(fc.asyncProperty(validResponseArb, cutsArb, async (bytes, cuts) => {
      expect(await fetchFrom(bytes, cuts)).toBeDefined()
    }), { numRuns: 500 })
  })

  it(`${RUNS} random byte streams in random chunkings end in artifacts or a named error`, async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), cutsArb, async (bytes, cuts) => {
      checkArtifacts(bytes, await fetchFrom(bytes, cuts))
    }), { numRuns: RUNS })
  })

  it(`${RUNS} mutated valid responses in random chunkings end in artifacts or a named error`, async () => {
    await fc.assert(fc.asyncProperty(mutated(validResponseArb), cutsArb, async (bytes, cuts) => {
      checkArtifacts(bytes, await fetchFrom(bytes, cuts))
    }), { numRuns: RUNS })
  })

  it('refuses a header announcing more than maxModelBytes before reading any data', async () => {
    const claims = [encodeFoundHeader(0xffff_ffff, 0xffff_ffff), encodeFoundHeader(0, MAX_MODEL + 1)]
    for (const header of claims) {
      const growth = await arrayBufferGrowth(async () => {
        const stream = fakeStream([frame(header), frame(new Uint8Array(16))])
        await expect(requestModel(stream, 'm', { maxModelBytes: MAX_MODEL })).rejects.toMatchObject({ name: 'MessageTooLargeError' })
      })
      expect(growth).toBeLessThan(MiB)
    }
  })

  it('buffers only the bytes that arrived when a header within the limit announces far more than is sent', async () => {
    const growth = await arrayBufferGrowth(async () => {
      const stream = fakeStream([frame(encodeFoundHeader(100 * MiB, 100 * MiB)), frame(new Uint8Array(64))])
      await expect(requestModel(stream, 'm')).rejects.toMatchObject({ name: 'ProtocolError' })
    })
    expect(growth).toBeLessThan(MiB)
  })

  it('refuses a data frame above the frame limit without buffering it', async () => {
    const growth = await arrayBufferGrowth(async () => {
      const hugePrefix = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f])
      const stream = fakeStream([frame(encodeFoundHeader(10, 10)), hugePrefix, new Uint8Array(32)])
      await expect(requestModel(stream, 'm')).rejects.toMatchObject({ name: 'MessageTooLargeError' })
    })
    expect(growth).toBeLessThan(MiB)
  })
})
