import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DeadlineExceededError, InternalError, InvalidMessageError, InvalidModelError, InvalidTensorError,
  MessageTooLargeError, ModelNotFoundError, NotStartedError, PeerBusyError, ProtocolError
} from '../../../src/errors.js'
import { decodeRequest, decodeResponse, encodeError, encodeRequest, encodeResult, peekRequestId } from '../../../src/offload/codec.js'
import { MAX_ERROR_MESSAGE_BYTES } from '../../../src/offload/constants.js'
import { ErrorCode, errorFromCode } from '../../../src/wire/error-codes.js'
import type { TensorData } from '../../../src/model/types.js'

const NAMED = new Set(['InvalidMessageError', 'MessageTooLargeError'])

function f32 (shape: number[]): TensorData {
  const n = shape.reduce((a, b) => a * b, 1)
  return { dtype: 'float32', shape, data: Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3.25) }
}

function i32 (shape: number[]): TensorData {
  const n = shape.reduce((a, b) => a * b, 1)
  return { dtype: 'int32', shape, data: Int32Array.from({ length: n }, (_, i) => (i % 2 === 0 ? -i : i * 1000003)) }
}

function plain (t: TensorData): unknown {
  return { dtype: t.dtype, shape: t.shape, data: Array.from(t.data) }
}

const sample = [f32([]), f32([0]), f32([3]), i32([2, 3]), f32([1, 2, 1, 2, 1, 2, 1, 2]), i32([4, 0, 5])]

describe('infer codec round trip', () => {
  it('keeps ids, deadline, model id and tensors of every dtype and rank', () => {
    const request = { requestId: 0xfedcba9876543210n, deadlineMs: 1234, modelId: 'sha256-abc/ünï', inputs: sample }
    const decoded = decodeRequest(encodeRequest(request).subarray())
    expect(decoded.requestId).toBe(request.requestId)
    expect(decoded.deadlineMs).toBe(1234)
    expect(decoded.modelId).toBe(request.modelId)
    expect(decoded.inputs.map(plain)).toEqual(sample.map(plain))
  })

  it('keeps the served result', () => {
    const frame = encodeResult(7n, { outputs: sample, queueMs: 1.5, computeMs: 20.25, batchSize: 9 })
    const decoded = decodeResponse(frame.subarray())
    expect(decoded).toMatchObject({ type: 'result', requestId: 7n, queueMs: 1.5, computeMs: 20.25, batchSize: 9 })
    expect(decoded.type === 'result' && decoded.outputs.map(plain)).toEqual(sample.map(plain))
  })

  it('views aligned tensor data in place and copies unaligned data', () => {
    const bytes = encodeRequest({ requestId: 1n, deadlineMs: 1, modelId: 'm', inputs: [f32([2, 2])] }).subarray()
    const aligned = decodeRequest(bytes)
    expect(aligned.inputs[0].data.buffer).toBe(bytes.buffer)
    const shifted = new Uint8Array(bytes.length + 1)
    shifted.set(bytes, 1)
    const unaligned = decodeRequest(shifted.subarray(1))
    expect(unaligned.inputs[0].data.buffer).not.toBe(shifted.buffer)
    expect(Array.from(unaligned.inputs[0].data)).toEqual(Array.from(f32([2, 2]).data))
  })

  it('maps every error class to a code and back to the same class', () => {
    const errors = [
      new InternalError('x'), new InvalidMessageError('x'), new MessageTooLargeError('x'), new ProtocolError('x'),
      new ModelNotFoundError('x'), new InvalidTensorError('x'), new PeerBusyError('x'), new DeadlineExceededError('x'),
      new NotStartedError('x'), new InvalidModelError('x')
    ]
    for (const err of errors) {
      const decoded = decodeResponse(encodeError(5n, err))
      if (decoded.type !== 'error') throw new Error('expected an error frame')
      expect(decoded.requestId).toBe(5n)
      expect(errorFromCode(decoded.code, decoded.message).name).toBe(err.name)
    }
    expect(errorFromCode(999, 'later').name).toBe('InternalError')
    expect(decodeResponse(encodeError(1n, new TypeError('bug')))).toMatchObject({ code: ErrorCode.Internal })
  })

  it('truncates long error messages on a character boundary', () => {
    const decoded = decodeResponse(encodeError(1n, new Error('€'.repeat(1000))))
    if (decoded.type !== 'error') throw new Error('expected an error frame')
    expect(new TextEncoder().encode(decoded.message).length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_BYTES)
    expect(decoded.message).toBe('€'.repeat(341))
  })
})

describe('infer codec rejects bad input', () => {
  const valid = (): Uint8Array => encodeRequest({ requestId: 3n, deadlineMs: 50, modelId: 'm', inputs: [f32([2, 3])] }).subarray()

  it('refuses tensors that do not match their shape when encoding', () => {
    const bad = { dtype: 'float32' as const, shape: [2, 2], data: new Float32Array(3) }
    expect(() => encodeRequest({ requestId: 1n, deadlineMs: 1, modelId: 'm', inputs: [bad] })).toThrow(InvalidTensorError)
    const mixed = { dtype: 'int32' as const, shape: [1], data: new Float32Array(1) }
    expect(() => encodeRequest({ requestId: 1n, deadlineMs: 1, modelId: 'm', inputs: [mixed] })).toThrow(InvalidTensorError)
    expect(() => encodeRequest({ requestId: 1n, deadlineMs: 1, modelId: 'x'.repeat(129), inputs: [] })).toThrow(InvalidMessageError)
    expect(() => encodeRequest({ requestId: 1n, deadlineMs: 1, modelId: 'm', inputs: [f32([1024])] }, { maxFrameBytes: 1000 })).toThrow(MessageTooLargeError)
  })

  it('rejects truncated frames at every length', () => {
    const bytes = valid()
    for (let n = 0; n < bytes.length; n++) expect(() => decodeRequest(bytes.subarray(0, n))).toThrow(InvalidMessageError)
  })

  it('rejects trailing bytes, wrong version, wrong type, a non-zero pad', () => {
    const bytes = valid()
    expect(() => decodeRequest(Uint8Array.from([...bytes, 0]))).toThrow(InvalidMessageError)
    expect(() => decodeRequest(Uint8Array.from([2, ...bytes.subarray(1)]))).toThrow(InvalidMessageError)
    expect(() => decodeResponse(bytes)).toThrow(InvalidMessageError)
    // model id 'm' ends at 16, count at 16, dtype+rank 17-18, dims 19-26, byteLength 27-30, pad 31
    const padded = bytes.slice()
    padded[31] = 1
    expect(() => decodeRequest(padded)).toThrow(InvalidMessageError)
  })

  it('rejects absurd dims and rank without allocating for them', () => {
    const bytes = valid()
    const view = new DataView(bytes.buffer, bytes.byteOffset)
    view.setUint32(19, 0xffffffff)
    view.setUint32(23, 0xffffffff)
    expect(() => decodeRequest(bytes)).toThrow(InvalidMessageError)
    const rank = valid()
    rank[18] = 9
    expect(() => decodeRequest(rank)).toThrow(InvalidMessageError)
    const length = valid()
    new DataView(length.buffer, length.byteOffset).setUint32(27, 0xfffffffc)
    expect(() => decodeRequest(length)).toThrow(InvalidMessageError)
  })

  it('rejects frames above the size limit and invalid UTF-8', () => {
    expect(() => decodeRequest(valid(), { maxFrameBytes: 10 })).toThrow(MessageTooLargeError)
    const utf = valid()
    utf[15] = 0xff
    expect(() => decodeRequest(utf)).toThrow(InvalidMessageError)
  })

  it('peeks the request id of a broken frame when it is long enough', () => {
    expect(peekRequestId(valid().subarray(0, 12))).toBe(3n)
    expect(peekRequestId(new Uint8Array(3))).toBe(0n)
  })
})

/** Decode and check that the result is a value or a named error; return whether it decoded. */
function decodesOrThrowsNamed (decode: () => unknown): boolean {
  try {
    decode()
    return true
  } catch (err: any) {
    if (!NAMED.has(err?.name)) throw err
    return false
  }
}

describe('infer codec under fuzzing', () => {
  const request = encodeRequest({ requestId: 11n, deadlineMs: 99, modelId: 'model', inputs: [f32([2, 3]), i32([1])] }).subarray()
  const result = encodeResult(11n, { outputs: [f32([2, 2])], queueMs: 1, computeMs: 2, batchSize: 2 }).subarray()
  const mutation = (base: Uint8Array): fc.Arbitrary<Uint8Array> => fc.tuple(
    fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
    fc.nat(base.length),
    fc.uint8Array({ maxLength: 8 })
  ).map(([edits, cut, tail]) => {
    const out = base.slice()
    for (const [i, v] of edits) out[i] = v
    return Uint8Array.from([...out.subarray(0, cut), ...tail])
  })

  it('random bytes decode or throw a named error (request and response)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
      decodesOrThrowsNamed(() => decodeRequest(bytes))
      decodesOrThrowsNamed(() => decodeResponse(bytes))
    }), { numRuns: 5000 })
  })

  it('mutated valid frames decode or throw a named error', () => {
    fc.assert(fc.property(mutation(request), (bytes) => { decodesOrThrowsNamed(() => decodeRequest(bytes)) }), { numRuns: 5000 })
    fc.assert(fc.property(mutation(result), (bytes) => { decodesOrThrowsNamed(() => decodeResponse(bytes)) }), { numRuns: 5000 })
  })

  it('random tensors round trip', () => {
    const tensorArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }).chain(shape => {
      const n = shape.reduce((a, b) => a * b, 1)
      return fc.oneof(
        fc.array(fc.float({ noNaN: true }), { minLength: n, maxLength: n }).map(v => ({ dtype: 'float32' as const, shape, data: Float32Array.from(v) })),
        fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: n, maxLength: n }).map(v => ({ dtype: 'int32' as const, shape, data: Int32Array.from(v) }))
      )
    })
    fc.assert(fc.property(fc.array(tensorArb, { maxLength: 5 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (inputs, requestId) => {
      const decoded = decodeRequest(encodeRequest({ requestId, deadlineMs: 5, modelId: 'm', inputs }).subarray())
      expect(decoded.requestId).toBe(requestId)
      expect(decoded.inputs.map(plain)).toEqual(inputs.map(plain))
    }), { numRuns: 1000 })
  })
})
