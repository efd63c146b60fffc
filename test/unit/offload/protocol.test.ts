import { streamPair } from '@libp2p/utils'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { FrameReader, writeFrame } from '../../../src/wire/framing.js'
import { decodeResponse, encodeRequest } from '../../../src/offload/codec.js'
import { ErrorCode } from '../../../src/wire/error-codes.js'
import { createInferHandler } from '../../../src/offload/infer-handler.js'
import { createRemoteInvoker } from '../../../src/offload/remote-invoker.js'
import { INFER_PIPE_PROTOCOL } from '../../../src/offload/constants.js'
import { createInferenceEngine } from '../../../src/offload/server.js'
import { FakeRuntime, pairedConnectionManager, randomPeerId, tensor } from './protocol-fixtures.js'
import type { InferResponse } from '../../../src/offload/codec.js'
import type { EngineInit, InferenceEngine } from '../../../src/offload/server.js'
import type { InferHandler, InferHandlerInit } from '../../../src/offload/infer-handler.js'
import type { LocalInvoker, ServedResult } from '../../../src/offload/types.js'
import type { PipelinedInvoker, RemoteInvokerInit } from '../../../src/offload/remote-invoker.js'
import type { Stream } from '@libp2p/interface'

interface Setup {
  runtime: FakeRuntime
  engine: InferenceEngine
  handler: InferHandler
  invoke: PipelinedInvoker
  served: Array<Promise<void>>
  deadlines: number[]
  peer: string
}

const registrar = { handle: async () => {}, unhandle: async () => {} }
let current: Setup | undefined

async function setup (engineInit: EngineInit = {}, handlerInit: InferHandlerInit = {}, invokerInit: RemoteInvokerInit = {}): Promise<Setup> {
  const runtime = new FakeRuntime()
  const engine = createInferenceEngine({ runtime }, engineInit)
  engine.start()
  const deadlines: number[] = []
  const recording: LocalInvoker = async (modelId, inputs, options) => {
    deadlines.push(options.deadlineMs)
    return engine.invoke(modelId, inputs, options)
  }
  const handler = createInferHandler({ registrar, engine: recording }, handlerInit)
  const connectionManager = pairedConnectionManager(async (stream, protocol) => {
    await (protocol === INFER_PIPE_PROTOCOL ? handler.handlePipe(stream) : handler.handle(stream))
  })
  const invoke = createRemoteInvoker({ connectionManager }, invokerInit)
  current = { runtime, engine, handler, invoke, served: connectionManager.served, deadlines, peer: await randomPeerId() }
  return current
}

/** Open a raw stream to the handler, send `bytes` as they are, and read the single reply frame. */
async function rawExchange (s: Setup, bytes: Uint8Array, framed = true): Promise<InferResponse> {
  const [outbound, inbound] = await streamPair()
  s.served.push(s.handler.handle(inbound))
  if (framed) await writeFrame(outbound, bytes)
  else outbound.send(bytes)
  await outbound.close()
  return decodeResponse(await new FrameReader(outbound).expect('the reply'))
}

const varint = (n: number): number[] => {
  const out: number[] = []
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
  return [...out, n]
}

afterEach(async () => {
  // Every handler invocation must settle without throwing, whatever it was sent.
  current?.invoke.close()
  if (current != null) await Promise.all(current.served)
  current = undefined
})

// The same behaviour over one stream per request (1.0.0) and over the pipelined stream (1.1.0, the default).
describe.each([['1.0.0', { protocol: '1.0.0' }], ['1.1.0', {}]] as Array<[string, RemoteInvokerInit]>)('/edge-mesh/infer/%s end to end', (_, invokerInit) => {
  it('serves a request and reports server times', async () => {
    const s = await setup({}, {}, invokerInit)
    const served: ServedResult[] = []
    const invoke = s.engine.invoke
    const recording: LocalInvoker = async (...args) => { const r = await invoke(...args); served.push(r); return r }
    Object.assign(s.engine, { invoke: recording })
    const result = await s.invoke(s.peer, 'double', [tensor([[1, 2, 3, 4]])], { deadlineMs: 5000 })
    expect(Array.from(result.outputs[0].data)).toEqual([2, 4, 6, 8])
    expect(result.outputs[0].shape).toEqual([1, 4])
    expect(result.batchSize).toBe(1)
    // The server's own times reach the caller, in whole microseconds.
    expect(result.queueMs).toBe(Math.round(served[0].queueMs * 1000) / 1000)
    expect(result.computeMs).toBe(Math.round(served[0].computeMs * 1000) / 1000)
    expect(s.deadlines[0]).toBeGreaterThan(0)
    expect(s.deadlines[0]).toBeLessThanOrEqual(5000)
    expect(s.handler.stats()).toMatchObject({ streams: 1, served: 1 })
  })

  it('batches concurrent remote requests', async () => {
    const s = await setup({ capacity: 1, maxBatchSize: 4, maxBatchDelayMs: 60_000 }, {}, invokerInit)
    const results = await Promise.all([1, 2, 3, 4].map(i => s.invoke(s.peer, 'double', [tensor([[i, i, i, i]])], { deadlineMs: 5000 })))
    expect(results.map(r => r.outputs[0].data[0])).toEqual([2, 4, 6, 8])
    expect(results.every(r => r.batchSize === 4)).toBe(true)
  })

  it('rethrows the named errors the server answers', async () => {
    const s = await setup({ capacity: 1, maxQueue: 0, batching: false }, {}, invokerInit)
    await expect(s.invoke(s.peer, 'missing', [tensor([[1, 2, 3, 4]])], { deadlineMs: 5000 })).rejects.toThrow(expect.objectContaining({ name: 'ModelNotFoundError' }))
    await expect(s.invoke(s.peer, 'double', [tensor([[1, 2]])], { deadlineMs: 5000 })).rejects.toThrow(expect.objectContaining({ name: 'InvalidTensorError' }))
    let release = (): void => {}
    s.runtime.gate = new Promise(resolve => { release = resolve })
    const running = s.invoke(s.peer, 'double', [tensor([[1, 2, 3, 4]])], { deadlineMs: 5000 })
    await expect.poll(() => s.runtime.calls.length).toBe(1)
    await expect(s.invoke(s.peer, 'double', [tensor([[1, 2, 3, 4]])], { deadlineMs: 5000 })).rejects.toThrow(expect.objectContaining({ name: 'PeerBusyError' }))
    release()
    await running
  })

  it('honours the caller signal and the deadline', async () => {
    const s = await setup({ capacity: 1, batching: false }, {}, invokerInit)
    s.runtime.gate = new Promise(() => {})
    const controller = new AbortController()
    const aborted = s.invoke(s.peer, 'double', [tensor([[1, 2, 3, 4]])], { deadlineMs: 60_000, signal: controller.signal })
    await expect.poll(() => s.runtime.calls.length).toBe(1)
    controller.abort()
    await expect(aborted).rejects.toThrow(expect.objectContaining({ name: 'AbortError' }))
    await expect(s.invoke(s.peer, 'double', [tensor([[1, 2, 3, 4]])], { deadlineMs: 20 })).rejects.toThrow(expect.objectContaining({ name: 'DeadlineExceededError' }))
    s.engine.stop()
  })

  it('refuses invalid inputs before opening a stream', async () => {
    const s = await setup({}, {}, invokerInit)
    const bad = { dtype: 'float32' as const, shape: [2, 4], data: new Float32Array(3) }
    await expect(s.invoke(s.peer, 'double', [bad], { deadlineMs: 5000 })).rejects.toThrow(expect.objectContaining({ name: 'InvalidTensorError' }))
    expect(s.served).toHaveLength(0)
  })
})

describe('/edge-mesh/infer/1.0.0 malformed input', () => {
  it('answers garbage with an InvalidMessage error frame and keeps serving', async () => {
    const s = await setup()
    expect(await rawExchange(s, Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3]))).toMatchObject({ type: 'error', code: ErrorCode.InvalidMessage })
    const result = await s.invoke(s.peer, 'double', [tensor([[1, 1, 1, 1]])], { deadlineMs: 5000 })
    expect(result.outputs[0].data[0]).toBe(2)
  })

  it('answers an oversized length prefix with MessageTooLarge before reading the payload', async () => {
    const s = await setup({}, { maxFrameBytes: 1024 })
    const reply = await rawExchange(s, Uint8Array.from([...varint(100 * 1024 * 1024), 1, 2, 3]), false)
    expect(reply).toMatchObject({ type: 'error', code: ErrorCode.MessageTooLarge })
    expect((await s.invoke(s.peer, 'double', [tensor([[1, 1, 1, 1]])], { deadlineMs: 5000 })).batchSize).toBe(1)
  })

  it('answers a bad varint, a truncated frame and an empty stream with typed errors', async () => {
    const s = await setup()
    expect(await rawExchange(s, new Uint8Array(12).fill(0xff), false)).toMatchObject({ type: 'error' })
    expect(await rawExchange(s, Uint8Array.from([10, 1, 2]), false)).toMatchObject({ type: 'error', code: ErrorCode.Protocol })
    expect(await rawExchange(s, new Uint8Array(0), false)).toMatchObject({ type: 'error', code: ErrorCode.Protocol })
  })

  it('names the request in the error frame when the frame is long enough', async () => {
    const s = await setup()
    const frame = encodeRequest({ requestId: 42n, deadlineMs: 100, modelId: 'double', inputs: [tensor([[1, 2, 3, 4]])] }).subarray()
    expect(await rawExchange(s, frame.subarray(0, frame.length - 1))).toMatchObject({ type: 'error', requestId: 42n, code: ErrorCode.InvalidMessage })
  })

  it('aborts a stream that stays silent past the timeout', async () => {
    const s = await setup({}, { timeoutMs: 20 })
    const [outbound, inbound] = await streamPair()
    const handled = s.handler.handle(inbound)
    s.served.push(handled)
    await expect(new FrameReader(outbound).expect('the reply')).rejects.toThrow()
    await handled
    expect(s.handler.stats().aborted).toBe(1)
  })

  it('answers random frames with an error frame, never a crash', async () => {
    const s = await setup()
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), async (bytes) => {
      const reply = await rawExchange(s, bytes)
      expect(reply.type).toBe('error')
    }), { numRuns: 200 })
    expect(s.handler.stats().malformed).toBe(200)
  })
})

export type { Stream }
