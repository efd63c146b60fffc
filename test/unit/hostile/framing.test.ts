/**
 * Hostile input for the length-prefixed framing every stream protocol reads
 * through (`readFrames`, `FrameReader` in src/wire/framing.ts): random byte
 * streams and mutated valid frame sequences, delivered in random chunkings.
 * Reading always terminates with the frames, or a named error; no frame above
 * `maxFrameBytes` is ever yielded, and a prefix claiming a huge frame is
 * refused before its payload is buffered, even from a source that never ends.
 */
import fc from 'fast-check'
import * as lp from 'it-length-prefixed'
import { describe, expect, it } from 'vitest'
import { FrameReader, readFrames } from '../../../src/wire/framing.js'
import { MiB, RUNS, arrayBufferGrowth, chunked, cutsArb, mutated, slowly, valueOrNamedErrorAsync } from './fuzz.js'

const ERRORS = ['InvalidMessageError', 'MessageTooLargeError', 'ProtocolError']
const MAX_FRAME = 64

const framesArb = fc.array(fc.uint8Array({ maxLength: MAX_FRAME }), { maxLength: 6 })
const encode = (frames: Uint8Array[]): Uint8Array => Uint8Array.from(frames.flatMap(f => [...lp.encode.single(f).subarray()]))
const validArb = framesArb.map(encode)

/** Read every frame of `chunks`; the frames, or undefined when reading threw a named error. */
async function readAll (chunks: Uint8Array[], maxFrameBytes = MAX_FRAME): Promise<Uint8Array[] | undefined> {
  return await valueOrNamedErrorAsync(async () => {
    const out: Uint8Array[] = []
    for await (const frame of readFrames(slowly(chunks), { maxFrameBytes })) {
      expect(frame.byteLength).toBeLessThanOrEqual(maxFrameBytes)
      out.push(frame.subarray())
    }
    return out
  }, ERRORS)
}

/** A source that never ends: `chunk` forever. */
async function * forever (chunk: Uint8Array): AsyncGenerator<Uint8Array> {
  while (true) {
    await Promise.resolve()
    yield chunk
  }
}

describe('hostile length-prefixed frames', () => {
  it('valid frame sequences come back exactly, whatever the chunking', async () => {
    await fc.assert(fc.asyncProperty(framesArb, cutsArb, async (frames, cuts) => {
      expect(await readAll(chunked(encode(frames), cuts))).toEqual(frames)
    }), { numRuns: 1000 })
  })

  it(`${RUNS} random byte streams in random chunkings end in frames within the limit or a named error`, async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), cutsArb, async (bytes, cuts) => {
      await readAll(chunked(bytes, cuts))
    }), { numRuns: RUNS })
  })

  it(`${RUNS} mutated valid frame sequences in random chunkings end in frames within the limit or a named error`, async () => {
    await fc.assert(fc.asyncProperty(mutated(validArb), cutsArb, async (bytes, cuts) => {
      await readAll(chunked(bytes, cuts))
    }), { numRuns: RUNS })
  })

  it('refuses a prefix above the limit from a source that never ends, without buffering the payload', async () => {
    const growth = await arrayBufferGrowth(async () => {
      const claim = Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x08]) // varint of 2^31
      async function * source (): AsyncGenerator<Uint8Array> {
        yield claim
        yield * forever(new Uint8Array(4096))
      }
      const reader = new FrameReader(source(), { maxFrameBytes: 8 * MiB })
      await expect(reader.next()).rejects.toMatchObject({ name: 'MessageTooLargeError' })
    })
    expect(growth).toBeLessThan(MiB)
  })

  it('refuses an endless length prefix (continuation bits forever)', async () => {
    const reader = new FrameReader(forever(Uint8Array.from([0x80, 0x80, 0x80])))
    await expect(reader.next()).rejects.toMatchObject({ name: 'MessageTooLargeError' })
  })

  it('a prefix within the limit whose payload never comes ends in ProtocolError, having buffered only what arrived', async () => {
    const growth = await arrayBufferGrowth(async () => {
      const claim = Uint8Array.from([0x80, 0x80, 0x80, 0x04]) // varint of 8 MiB
      const reader = new FrameReader(slowly([claim, new Uint8Array(100)]), { maxFrameBytes: 8 * MiB })
      await expect(reader.next()).rejects.toMatchObject({ name: 'ProtocolError' })
    })
    expect(growth).toBeLessThan(MiB)
  })

  it('an empty stream is a clean end for next() and a ProtocolError for expect()', async () => {
    expect(await new FrameReader(slowly([])).next()).toBeUndefined()
    await expect(new FrameReader(slowly([])).expect('the request')).rejects.toMatchObject({ name: 'ProtocolError' })
  })
})
