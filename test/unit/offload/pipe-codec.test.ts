import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PeerBusyError } from '../../../src/errors.js'
import { MAX_ERROR_MESSAGE_BYTES } from '../../../src/offload/constants.js'
import {
  decodePipeInbound, decodePipeResponse, encodePipeCancel, encodePipeError, encodePipeRequest, encodePipeResult,
  peekPipeIds, requestFrameBytes, toWireInputs, wireKey
} from '../../../src/offload/pipe-codec.js'
import { requestBytes } from '../../../src/offload/client-request.js'
import { likelyByteWidth, UNIT_BYTE_VALUES, WIRE_UINT8, WIRE_UNIT_BYTE } from '../../../src/offload/tensor-wire.js'
import { ErrorCode } from '../../../src/wire/error-codes.js'
import type { PipeRequest } from '../../../src/offload/pipe-codec.js'
import type { TensorData } from '../../../src/model/types.js'

const LOAD = { outstanding: 3, capacity: 4 }
const NAMED = new Set(['InvalidMessageError', 'MessageTooLargeError'])

function f32 (shape: number[], base = 0): TensorData {
  const n = shape.reduce((a, b) => a * b, 1)
  return { dtype: 'float32', shape, data: Float32Array.from({ length: n }, (_, i) => base + i * 0.5 - 3.25) }
}

function image (rows: number, fill: (i: number) => number): TensorData {
  return { dtype: 'int32', shape: [rows, 4, 4, 3], data: Int32Array.from({ length: rows * 48 }, (_, i) => fill(i)) }
}

function plain (t: TensorData): unknown {
  return { dtype: t.dtype, shape: t.shape, data: Array.from(t.data) }
}

function request (modelId: string, parts: TensorData[][], narrow = false): Uint8Array {
  const wire = parts.map(inputs => toWireInputs(inputs, narrow))
  const entries = parts.map((inputs, i) => ({ id: 100 + i, rows: inputs[0].shape[0], deadlineMs: 1000 + i }))
  return encodePipeRequest(modelId, entries, wire).subarray()
}

describe('infer 1.1.0 codec round trip', () => {
  it('carries coalesced requests as one tensor per input, split back by rows', () => {
    const parts = [[f32([1, 3], 0), f32([1, 2], 9)], [f32([2, 3], 100), f32([2, 2], 200)]]
    const decoded = decodePipeInbound(request('sha256-m', parts)) as PipeRequest
    expect(decoded.modelId).toBe('sha256-m')
    expect(decoded.entries).toEqual([{ id: 100, rows: 1, deadlineMs: 1000 }, { id: 101, rows: 2, deadlineMs: 1001 }])
    expect(decoded.inputs.map(t => t.shape)).toEqual([[3, 3], [3, 2]])
    expect(Array.from(decoded.inputs[0].data)).toEqual([...parts[0][0].data, ...parts[1][0].data])
  })

  it('sends int32 inputs that fit 0..255 as uint8 and widens them back to int32', () => {
    const pixels = image(1, i => i % 256)
    const [wire] = toWireInputs([pixels], true)
    expect(wire.code).toBe(WIRE_UINT8)
    expect(wire.bytes.byteLength).toBe(48)
    const decoded = decodePipeInbound(request('m', [[pixels]], true)) as PipeRequest
    expect(plain(decoded.inputs[0])).toEqual(plain(pixels))
    // One value out of range (or negative) keeps the whole tensor int32.
    for (const outlier of [256, -1]) {
      expect(toWireInputs([image(1, i => i === 7 ? outlier : 1)], true)[0].code).toBe(2)
    }
    expect(wireKey('m', toWireInputs([pixels], true))).not.toBe(wireKey('m', toWireInputs([pixels], false)))
  })

  it('sends float32 inputs that are all k / 255 as one byte each and rebuilds the same float32 bits', () => {
    const scaled: TensorData = { dtype: 'float32', shape: [2, 4, 4, 3], data: Float32Array.from({ length: 96 }, (_, i) => (i * 37 % 256) / 255) }
    const [wire] = toWireInputs([scaled], true)
    expect(wire.code).toBe(WIRE_UNIT_BYTE)
    expect(wire.bytes.byteLength).toBe(96)
    const decoded = decodePipeInbound(request('m', [[scaled]], true)) as PipeRequest
    expect(decoded.inputs[0].dtype).toBe('float32')
    expect(Buffer.from(decoded.inputs[0].data.buffer, decoded.inputs[0].data.byteOffset, 384).equals(Buffer.from(scaled.data.buffer))).toBe(true)
    // One value that is not a unit byte's float32, bit for bit, keeps the whole tensor float32.
    const nextUp = new Float32Array(new Uint32Array([new Uint32Array(UNIT_BYTE_VALUES.buffer)[7] + 1]).buffer)[0]
    for (const outlier of [0.5, -0, Number.NaN, Number.POSITIVE_INFINITY, 2, -1 / 255, 16843009.5, 1e10, nextUp]) {
      const data = Float32Array.from(scaled.data)
      data[50] = outlier
      expect(toWireInputs([{ ...scaled, data }], true)[0].code).toBe(1)
    }
    expect(toWireInputs([scaled], false)[0].code).toBe(1)
  })

  it('rebuilds any unit bytes exactly (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
      const data = Float32Array.from(bytes, k => UNIT_BYTE_VALUES[k])
      const t: TensorData = { dtype: 'float32', shape: [1, bytes.length], data }
      const decoded = decodePipeInbound(request('m', [[t]], true)) as PipeRequest
      expect(Array.from(decoded.inputs[0].data)).toEqual(Array.from(data))
    }), { numRuns: 200 })
  })

  it('estimates the bytes a request takes from a sample of its values (likelyByteWidth, requestBytes)', () => {
    const pixels = 224 * 224 * 3
    const image: TensorData = { dtype: 'float32', shape: [1, 224, 224, 3], data: Float32Array.from({ length: pixels }, (_, i) => UNIT_BYTE_VALUES[i * 31 % 256]) }
    const ints: TensorData = { dtype: 'int32', shape: [1, 192, 192, 3], data: Int32Array.from({ length: 192 * 192 * 3 }, (_, i) => i % 256) }
    const floats: TensorData = { dtype: 'float32', shape: [1, 1000], data: Float32Array.from({ length: 1000 }, (_, i) => i / 1000 + 0.0001) }
    const wide: TensorData = { dtype: 'int32', shape: [1, 1000], data: Int32Array.from({ length: 1000 }, (_, i) => i) }
    expect([image, ints, floats, wide].map(likelyByteWidth)).toEqual([1, 1, 4, 4])
    expect(likelyByteWidth({ dtype: 'float32', shape: [1, 3], data: Float32Array.from([0, -0, 1]) })).toBe(4)
    // 8-bit images count a byte per value, so a peer's 4 MiB budget holds 27 MobileNetV2 requests, not 6.
    expect(requestBytes([image])).toBe(pixels + 256 + 64)
    expect(requestBytes([floats])).toBe(4000 + 256 + 64)
    // The sample decides; the encoder still checks every value and sends an off value's tensor as float32.
    const data = Float32Array.from(image.data)
    data[1] = 0.5
    expect(likelyByteWidth({ ...image, data })).toBe(1)
    expect(toWireInputs([{ ...image, data }], true)[0].code).toBe(1)
  })

  it('keeps results, errors, load and cancels', () => {
    const outputs = [f32([2, 5])]
    const result = decodePipeResponse(encodePipeResult(7, { outputs, queueMs: 0.25, computeMs: 1.5, batchSize: 3 }, LOAD).subarray())
    expect(result).toMatchObject({ type: 'result', id: 7, queueMs: 0.25, computeMs: 1.5, batchSize: 3, load: LOAD })
    expect(result.type === 'result' && result.outputs.map(plain)).toEqual(outputs.map(plain))
    const error = decodePipeResponse(encodePipeError(0xffffffff, new PeerBusyError('x'.repeat(5000)), LOAD))
    expect(error).toMatchObject({ type: 'error', id: 0xffffffff, code: ErrorCode.PeerBusy, load: LOAD })
    expect(error.type === 'error' && error.message.length).toBe(MAX_ERROR_MESSAGE_BYTES)
    expect(decodePipeInbound(encodePipeCancel(42))).toEqual({ cancel: 42 })
  })

  it('views aligned tensor data in place and copies misaligned data once', () => {
    const frame = request('m', [[f32([1, 8])]])
    const aligned = decodePipeInbound(frame) as PipeRequest
    expect(aligned.inputs[0].data.buffer).toBe(frame.buffer)
    const shifted = new Uint8Array(frame.length + 1).subarray(1)
    shifted.set(frame)
    const copied = decodePipeInbound(shifted) as PipeRequest
    expect(copied.inputs[0].data.buffer).not.toBe(shifted.buffer)
    expect(plain(copied.inputs[0])).toEqual(plain(aligned.inputs[0]))
    // A Node Buffer (what the transport hands over) whose slice() is a view, not a copy.
    const buffer = Buffer.from(shifted.buffer, 1, frame.length)
    expect(plain((decodePipeInbound(buffer) as PipeRequest).inputs[0])).toEqual(plain(aligned.inputs[0]))
  })
})

describe('infer 1.1.0 codec limits and malformed input', () => {
  it('refuses frames over the size limit on both sides', () => {
    const parts = [[f32([1, 300])]]
    const size = requestFrameBytes('m', parts.map(p => toWireInputs(p, false)))
    expect(() => request('m', parts)).not.toThrow()
    expect(() => encodePipeRequest('m', [{ id: 1, rows: 1, deadlineMs: 1 }], [toWireInputs(parts[0], false)], { maxFrameBytes: size - 1 }))
      .toThrow(expect.objectContaining({ name: 'MessageTooLargeError' }))
    expect(() => decodePipeInbound(request('m', parts), { maxFrameBytes: size - 1 })).toThrow(expect.objectContaining({ name: 'MessageTooLargeError' }))
  })

  it('refuses rows that do not add up, duplicate ids, zero rows and unknown types', () => {
    const frame = request('m', [[f32([1, 2])], [f32([1, 2])]])
    const view = new DataView(frame.buffer, frame.byteOffset)
    const mutate = (at: number, value: number): Uint8Array => { const copy = frame.slice(); new DataView(copy.buffer).setUint32(at, value); return copy }
    expect(() => decodePipeInbound(mutate(8, 2))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
    expect(() => decodePipeInbound(mutate(16, view.getUint32(4)))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
    expect(() => decodePipeInbound(mutate(8, 0))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
    const typed = frame.slice()
    typed[1] = 9
    expect(() => decodePipeInbound(typed)).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
    // The ids of a frame that does not decode can still be answered.
    expect(peekPipeIds(mutate(8, 0))).toEqual([100, 101])
    expect(peekPipeIds(frame.subarray(0, 10))).toEqual([])
  })

  it('decodes mutated and random frames or throws a named error', () => {
    const frame = request('m', [[f32([1, 3])], [f32([1, 3])]], false)
    fc.assert(fc.property(fc.nat(frame.length - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
      const copy = frame.slice()
      copy[at] = value
      try { decodePipeInbound(copy) } catch (err: any) { expect(NAMED.has(err.name)).toBe(true) }
    }), { numRuns: 500 })
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      for (const decode of [decodePipeInbound, decodePipeResponse]) {
        try { decode(bytes) } catch (err: any) { expect(NAMED.has(err.name)).toBe(true) }
      }
    }), { numRuns: 500 })
  })
})
