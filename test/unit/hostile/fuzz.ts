/**
 * Shared pieces of the hostile-input suite (one test file per decoder): the
 * run count every property uses, byte mutators that turn valid encodings into
 * near-valid hostile ones, random chunkings for streaming decoders, and the
 * checks "a value or a named error" and "no large allocation".
 */
import fc from 'fast-check'
import { expect } from 'vitest'

/** Runs of every random and every mutated property (the issue asks for at least 10,000). */
export const RUNS = 10_000

/** The named errors a decoder of peer bytes may throw. */
export const WIRE_ERRORS = ['InvalidMessageError', 'MessageTooLargeError', 'ProtocolError', 'InvalidTensorError']

/**
 * Run `decode`; returns the value, or `undefined` when it threw one of `names`.
 * Any other throw (a TypeError, a RangeError from a typed-array constructor...)
 * fails the property with the original error.
 */
export function valueOrNamedError<T> (decode: () => T, names: readonly string[] = WIRE_ERRORS): T | undefined {
  try {
    return decode()
  } catch (err: any) {
    if (!names.includes(err?.name)) throw err
    return undefined
  }
}

/** The async form of `valueOrNamedError`. */
export async function valueOrNamedErrorAsync<T> (decode: () => Promise<T>, names: readonly string[] = WIRE_ERRORS): Promise<T | undefined> {
  try {
    return await decode()
  } catch (err: any) {
    if (!names.includes(err?.name)) throw err
    return undefined
  }
}

/** The name of the error `fn` throws, or undefined when it returns. */
export function thrownName (fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err: any) {
    return String(err?.name)
  }
  return undefined
}

/** Values that sit on the edges of integer fields: zero, signs, powers of two, all ones. */
const EDGE_U8 = [0x00, 0x01, 0x02, 0x03, 0x04, 0x7f, 0x80, 0x81, 0xfe, 0xff]
const EDGE_U32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x1_0000, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff]

/** One edit of a byte string; positions are taken modulo the current length. */
type Edit = (bytes: number[]) => void

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  // overwrite one byte with anything, or with an edge value
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, v]): Edit => (b) => { if (b.length > 0) b[at % b.length] = v }),
  fc.tuple(fc.nat(), fc.constantFrom(...EDGE_U8)).map(([at, v]): Edit => (b) => { if (b.length > 0) b[at % b.length] = v }),
  // flip one bit
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })).map(([at, bit]): Edit => (b) => { if (b.length > 0) b[at % b.length] ^= 1 << bit }),
  // overwrite four bytes with an edge 32-bit value, in either byte order (size and dimension fields)
  fc.tuple(fc.nat(), fc.constantFrom(...EDGE_U32), fc.boolean()).map(([at, v, little]): Edit => (b) => {
    if (b.length < 4) return
    const o = at % (b.length - 3)
    for (let i = 0; i < 4; i++) b[o + i] = (v >>> (little ? 8 * i : 24 - 8 * i)) & 0xff
  }),
  // insert, delete or duplicate a run of bytes
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([at, ins]): Edit => (b) => { b.splice(at % (b.length + 1), 0, ...ins) }),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 8 })).map(([at, n]): Edit => (b) => { if (b.length > 0) b.splice(at % b.length, n) }),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 16 })).map(([at, n]): Edit => (b) => {
    if (b.length === 0) return
    const o = at % b.length
    b.splice(o, 0, ...b.slice(o, o + n))
  }),
  // truncate, or append garbage
  fc.nat().map((at): Edit => (b) => { b.length = at % (b.length + 1) }),
  fc.uint8Array({ minLength: 1, maxLength: 16 }).map((tail): Edit => (b) => { b.push(...tail) })
)

/** Valid encodings from `valid`, each damaged by 1 to 6 random edits. */
export function mutated (valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, fc.array(editArb, { minLength: 1, maxLength: 6 })).map(([bytes, edits]) => {
    const b = Array.from(bytes)
    for (const edit of edits) edit(b)
    return Uint8Array.from(b)
  })
}

/** Random bytes that start with a fixed prefix (so they get past the version/type/magic checks). */
export function withPrefix (prefix: number[], maxLength = 256): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ maxLength }).map(rest => Uint8Array.from([...prefix, ...rest]))
}

/** Cut points for splitting a byte string into chunks (possibly empty ones). */
export const cutsArb = fc.array(fc.nat(), { maxLength: 12 })

/** Split `bytes` at the given cut points (taken modulo length + 1), keeping empty chunks. */
export function chunked (bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = cuts.map(c => c % (bytes.length + 1)).sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let from = 0
  for (const p of points) {
    out.push(bytes.subarray(from, p))
    from = p
  }
  out.push(bytes.subarray(from))
  return out
}

/** An async source that hands out `chunks`, yielding to the event loop between them like a socket. */
export async function * slowly (chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) {
    await Promise.resolve()
    yield chunk
  }
}

/**
 * Run `fn` and return how many bytes of ArrayBuffer memory it left allocated
 * (a typed array the decoder allocated and kept, or still holds in a thrown
 * error's closure). Garbage collection can only make the figure smaller.
 */
export async function arrayBufferGrowth (fn: () => unknown): Promise<number> {
  const before = process.memoryUsage().arrayBuffers
  await fn()
  return process.memoryUsage().arrayBuffers - before
}

/** One mebibyte: the allocation budget of a decoder fed a small hostile input. */
export const MiB = 1024 * 1024

/** Total bytes of typed-array data in a list of tensors. */
export function tensorBytes (tensors: Array<{ data: { byteLength: number } }>): number {
  return tensors.reduce((n, t) => n + t.data.byteLength, 0)
}

/** A decoded tensor must describe itself consistently. */
export function expectConsistentTensor (t: { shape: number[], data: { length: number } }): void {
  expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1))
}
