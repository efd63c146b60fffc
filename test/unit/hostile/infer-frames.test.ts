/**
 * Hostile input for the `/edge-mesh/infer/1.0.0` frame decoders
 * (`decodeRequest`, `decodeResponse`): random bytes, random bytes behind a
 * valid version/type prefix, and valid frames of every shape damaged by
 * several edits. Each input decodes to a consistent value or throws a named
 * error; a decoded frame never holds more tensor bytes than the frame itself,
 * and headers that claim huge tensors are refused without allocating.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MessageType, decodeRequest, decodeResponse, encodeError, encodeRequest, encodeResult } from '../../../src/offload/codec.js'
import { INFER_WIRE_VERSION, MAX_TENSORS, MAX_TENSOR_RANK } from '../../../src/offload/constants.js'
import {
  MiB, RUNS, arrayBufferGrowth, expectConsistentTensor, mutated, tensorBytes, thrownName, valueOrNamedError, withPrefix
} from './fuzz.js'
import type { InferRequest, InferResponse } from '../../../src/offload/codec.js'
import type { TensorData } from '../../../src/model/types.js'

const ERRORS = ['InvalidMessageError', 'MessageTooLargeError']
const MAX_FRAME = 64 * 1024

const tensorArb: fc.Arbitrary<TensorData> = fc.tuple(
  fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: MAX_TENSOR_RANK }),
  fc.constantFrom('float32' as const, 'int32' as const),
  fc.integer()
).map(([shape, dtype, seed]) => {
  const n = shape.reduce((a, b) => a * b, 1)
  const data = dtype === 'float32' ? Float32Array.from({ length: n }, (_, i) => seed + i / 3) : Int32Array.from({ length: n }, (_, i) => seed ^ i)
  return { dtype, shape, data }
})

const tensorsArb = fc.array(tensorArb, { maxLength: 4 })
const requestIdArb = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })

const validRequestArb = fc.record({
  requestId: requestIdArb,
  deadlineMs: fc.nat(),
  modelId: fc.string({ minLength: 1, maxLength: 40 }),
  inputs: tensorsArb
}).map(r => encodeRequest(r).subarray())

const validResponseArb = fc.oneof(
  fc.tuple(requestIdArb, tensorsArb, fc.integer({ min: 1, max: 64 }))
    .map(([id, outputs, batchSize]) => encodeResult(id, { outputs, queueMs: 1, computeMs: 2, batchSize }).subarray()),
  fc.tuple(requestIdArb, fc.string({ maxLength: 60 })).map(([id, message]) => encodeError(id, new Error(message)))
)

/** Whatever decoded describes itself consistently and holds no more tensor bytes than the frame. */
function checkRequest (frame: Uint8Array, request: InferRequest | undefined): void {
  if (request == null) return
  expect(request.inputs.length).toBeLessThanOrEqual(MAX_TENSORS)
  request.inputs.forEach(expectConsistentTensor)
  expect(tensorBytes(request.inputs)).toBeLessThanOrEqual(frame.length)
}

function checkResponse (frame: Uint8Array, response: InferResponse | undefined): void {
  if (response?.type !== 'result') return
  expect(response.outputs.length).toBeLessThanOrEqual(MAX_TENSORS)
  response.outputs.forEach(expectConsistentTensor)
  expect(tensorBytes(response.outputs)).toBeLessThanOrEqual(frame.length)
}

const decodeReq = (bytes: Uint8Array): void => { checkRequest(bytes, valueOrNamedError(() => decodeRequest(bytes, { maxFrameBytes: MAX_FRAME }), ERRORS)) }
const decodeRes = (bytes: Uint8Array): void => { checkResponse(bytes, valueOrNamedError(() => decodeResponse(bytes, { maxFrameBytes: MAX_FRAME }), ERRORS)) }

/** A request header for model "m" followed by one tensor header with the given rank, dims and byte length, and no data. */
function requestClaiming (dims: number[], byteLength: number): Uint8Array {
  const head = [INFER_WIRE_VERSION, MessageType.Request, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0x03, 0xe8, 1, 0x6d, 1, 1, dims.length]
  const out = new Uint8Array(head.length + 4 * dims.length + 4 + 4)
  out.set(head)
  const view = new DataView(out.buffer)
  dims.forEach((d, i) => { view.setUint32(head.length + 4 * i, d) })
  view.setUint32(head.length + 4 * dims.length, byteLength)
  return out
}

describe('hostile inference requests', () => {
  it(`${RUNS} random byte strings decode consistently or throw a named error`, () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), decodeReq), { numRuns: RUNS })
  })

  it(`${RUNS} random byte strings behind a valid request prefix decode consistently or throw a named error`, () => {
    fc.assert(fc.property(withPrefix([INFER_WIRE_VERSION, MessageType.Request], 512), decodeReq), { numRuns: RUNS })
  })

  it(`${RUNS} mutated valid requests decode consistently or throw a named error`, () => {
    fc.assert(fc.property(mutated(validRequestArb), decodeReq), { numRuns: RUNS })
  })

  it('refuses tensors whose header claims gigabytes, without allocating for them', async () => {
    const claims = [
      requestClaiming([0xffff_ffff, 0xffff_ffff], 0xffff_fffc),
      requestClaiming([0x4000_0000], 0xffff_fffc),
      requestClaiming([1024, 1024, 256], 0x4000_0000),
      requestClaiming(new Array(MAX_TENSOR_RANK).fill(0xffff_ffff), 0)
    ]
    const growth = await arrayBufferGrowth(() => {
      for (const frame of claims) expect(thrownName(() => decodeRequest(frame))).toBe('InvalidMessageError')
    })
    expect(growth).toBeLessThan(MiB)
  })

  it('refuses frames above maxFrameBytes before reading them', () => {
    const frame = encodeRequest({ requestId: 1n, deadlineMs: 1, modelId: 'm', inputs: [{ dtype: 'float32', shape: [300], data: new Float32Array(300) }] }).subarray()
    expect(thrownName(() => decodeRequest(frame, { maxFrameBytes: frame.length - 1 }))).toBe('MessageTooLargeError')
    expect(thrownName(() => decodeRequest(new Uint8Array(frame.length), { maxFrameBytes: frame.length - 1 }))).toBe('MessageTooLargeError')
  })

  it('refuses more tensors than MAX_TENSORS and ranks above MAX_TENSOR_RANK', () => {
    const many = Uint8Array.from([INFER_WIRE_VERSION, MessageType.Request, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0x6d, 255, ...new Uint8Array(255 * 8)])
    expect(thrownName(() => decodeRequest(many))).toBe('InvalidMessageError')
    expect(thrownName(() => decodeRequest(requestClaiming(new Array(MAX_TENSOR_RANK + 1).fill(1), 4)))).toBe('InvalidMessageError')
  })
})

describe('hostile inference responses', () => {
  it(`${RUNS} random byte strings decode consistently or throw a named error`, () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), decodeRes), { numRuns: RUNS })
  })

  it(`${RUNS} random byte strings behind a valid result or error prefix decode consistently or throw a named error`, () => {
    const prefixed = fc.oneof(withPrefix([INFER_WIRE_VERSION, MessageType.Result], 512), withPrefix([INFER_WIRE_VERSION, MessageType.Error], 512))
    fc.assert(fc.property(prefixed, decodeRes), { numRuns: RUNS })
  })

  it(`${RUNS} mutated valid results and error frames decode consistently or throw a named error`, () => {
    fc.assert(fc.property(mutated(validResponseArb), decodeRes), { numRuns: RUNS })
  })

  it('refuses an error message longer than the limit even when the bytes are there', () => {
    const frame = new Uint8Array(14 + 0xffff)
    frame.set([INFER_WIRE_VERSION, MessageType.Error, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0xff, 0xff])
    expect(thrownName(() => decodeResponse(frame))).toBe('InvalidMessageError')
  })
})
