/**
 * `/edge-mesh/infer/1.1.0` over in-memory stream pairs: pipelining, answers out
 * of order, coalescing, load on replies, cancels, idle close, fallback to
 * 1.0.0, and malformed frames from a stranger.
 */
import { streamPair } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { DeadlineExceededError } from '../../../src/errors.js'
import { FrameReader, readFrames, writeFrame } from '../../../src/wire/framing.js'
import { INFER_PIPE_PROTOCOL, INFER_PROTOCOL } from '../../../src/offload/constants.js'
import { createInferHandler } from '../../../src/offload/infer-handler.js'
import { decodePipeInbound, decodePipeResponse, encodePipeRequest, encodePipeResult, requestFrameBytes, toWireInputs } from '../../../src/offload/pipe-codec.js'
import { createRemoteInvoker } from '../../../src/offload/remote-invoker.js'
import { UNIT_BYTE_VALUES } from '../../../src/offload/tensor-wire.js'
import { ErrorCode } from '../../../src/wire/error-codes.js'
import { pairedConnectionManager, randomPeerId, tensor } from './protocol-fixtures.js'
import type { InferHandler } from '../../../src/offload/infer-handler.js'
import type { PipeRequest } from '../../../src/offload/pipe-codec.js'
import type { PipelinedInvoker, RemoteInvokerInit } from '../../../src/offload/remote-invoker.js'
import type { LocalInvoker } from '../../../src/offload/types.js'
import type { TensorData } from '../../../src/model/types.js'
import type { Stream } from '@libp2p/interface'

const registrar = { handle: async () => {}, unhandle: async () => {} }
const LOAD = { outstanding: 5, capacity: 4 }

interface Held { value: number, signal?: AbortSignal, release(): void }

/** An engine that doubles its input once the test releases the request (`held`, in arrival order); honours signal and deadline. */
function heldEngine (): { engine: LocalInvoker, held: Held[] } {
  const held: Held[] = []
  const engine: LocalInvoker = async (_modelId, inputs, options) => {
    let release = (): void => {}
    const gate = new Promise<void>((resolve, reject) => {
      release = resolve
      options.signal?.addEventListener('abort', () => { reject(options.signal?.reason) }, { once: true })
      setTimeout(() => { reject(new DeadlineExceededError('deadline passed while held')) }, options.deadlineMs)
    })
    held.push({ value: inputs[0].data[0], signal: options.signal, release })
    await gate
    return { outputs: inputs.map(t => ({ ...t, data: t.data.map(v => v * 2) })), queueMs: 0, computeMs: 1, batchSize: 1 }
  }
  return { engine, held }
}

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  const pending = cleanup
  cleanup = []
  for (const c of pending) await c()
})

async function setup (engine: LocalInvoker, init: RemoteInvokerInit = {}, handlerFor?: (stream: Stream, protocol: string) => Promise<void>): Promise<{
  handler: InferHandler, invoke: PipelinedInvoker, peer: string, opened: string[]
}> {
  const handler = createInferHandler({ registrar, engine, load: () => LOAD })
  const cm = pairedConnectionManager(handlerFor ?? (async (stream, protocol) => { await (protocol === INFER_PIPE_PROTOCOL ? handler.handlePipe(stream) : handler.handle(stream)) }))
  const invoke = createRemoteInvoker({ connectionManager: cm }, init)
  cleanup.push(async () => { invoke.close(); await Promise.all(cm.served) })
  return { handler, invoke, peer: await randomPeerId(), opened: cm.opened }
}

const row = (v: number): TensorData[] => [tensor([[v, v, v, v]])]

describe('/edge-mesh/infer/1.1.0 pipelining', () => {
  it('runs requests on one stream, answers them out of order, and reports the server load', async () => {
    const { engine, held } = heldEngine()
    const s = await setup(engine, { coalesce: false })
    const results = [1, 2, 3].map(async v => await s.invoke(s.peer, 'm', row(v), { deadlineMs: 5000 }))
    await expect.poll(() => held.length).toBe(3)
    const order: number[] = []
    results.forEach((r, i) => { void r.then(() => order.push(i + 1)) })
    for (const v of [3, 1, 2]) {
      held.find(h => h.value === v)?.release()
      await expect.poll(() => order.length).toBe([3, 1, 2].indexOf(v) + 1)
    }
    expect(order).toEqual([3, 1, 2])
    expect((await Promise.all(results)).map(r => r.outputs[0].data[0])).toEqual([2, 4, 6])
    expect((await results[0]).serverLoad).toEqual(LOAD)
    expect(s.opened).toHaveLength(1)
    expect(s.handler.stats()).toMatchObject({ streams: 1, served: 3 })
  })

  it('coalesces a burst into one frame and narrows image inputs to uint8', async () => {
    const frames: PipeRequest[] = []
    // A server that answers the first frame's requests in reverse order.
    const s = await setup(async () => { throw new Error('unused') }, {}, async (stream) => {
      for await (const list of readFrames(stream)) {
        const frame = decodePipeInbound(list.subarray()) as PipeRequest
        frames.push(frame)
        let at = 0
        const parts = frame.entries.map(e => { const start = at; at += e.rows; return { e, data: frame.inputs[0].data.subarray(start * 12, at * 12) } })
        for (const { e, data } of parts.reverse()) {
          await writeFrame(stream, encodePipeResult(e.id, { outputs: [{ dtype: 'int32', shape: [e.rows, 12], data }], queueMs: 0, computeMs: 0, batchSize: frame.entries.length }, LOAD))
        }
      }
      await stream.close()
    })
    const pixels = (v: number): TensorData[] => [{ dtype: 'int32', shape: [1, 12], data: new Int32Array(12).fill(v) }]
    const results = await Promise.all([10, 20, 30, 40].map(async v => await s.invoke(s.peer, 'm', pixels(v), { deadlineMs: 5000 })))
    expect(results.map(r => Array.from(r.outputs[0].data))).toEqual([10, 20, 30, 40].map(v => new Array(12).fill(v)))
    expect(frames).toHaveLength(1)
    expect(frames[0].entries).toHaveLength(4)
    expect(frames[0].inputs[0]).toMatchObject({ dtype: 'int32', shape: [4, 12] })
  })

  it('cancels a request the caller gave up on, and frees its slot', async () => {
    const { engine, held } = heldEngine()
    const s = await setup(engine, { maxInFlight: 1 })
    const controller = new AbortController()
    const first = s.invoke(s.peer, 'm', row(1), { deadlineMs: 5000, signal: controller.signal })
    await expect.poll(() => held.length).toBe(1)
    // The second request waits for the only slot.
    const second = s.invoke(s.peer, 'm', row(2), { deadlineMs: 5000 })
    controller.abort()
    await expect(first).rejects.toThrow(expect.objectContaining({ name: 'AbortError' }))
    await expect.poll(() => held[0].signal?.aborted).toBe(true)
    await expect.poll(() => held.length).toBe(2)
    held[1].release()
    expect((await second).outputs[0].data[0]).toBe(4)
    // Counted for GET /metrics (edge_mesh_infer_inbound_cancelled_total).
    expect(s.handler.stats().cancelled).toBe(1)
    await expect(s.invoke(s.peer, 'm', row(3), { deadlineMs: 30 })).rejects.toThrow(expect.objectContaining({ name: 'DeadlineExceededError' }))
  })

  it('keeps its unanswered request bytes within the server\'s budget: the rest wait, none is refused busy', async () => {
    const { engine, held } = heldEngine()
    const frameBytes = requestFrameBytes('m', [toWireInputs(row(1), false)])
    const budget = 2 * frameBytes + 8
    const handler = createInferHandler({ registrar, engine, load: () => LOAD }, { maxPeerInflightBytes: budget })
    const s = await setup(engine, { maxInFlightBytes: budget, coalesce: false }, async (stream) => { await handler.handlePipe(stream) })
    const answers = [1, 2, 3, 4, 5, 6].map(async v => await s.invoke(s.peer, 'm', row(v), { deadlineMs: 5000 }))
    // Two frames fit in the budget; the other four wait at the caller until answers free bytes.
    await expect.poll(() => held.length).toBe(2)
    for (let i = 0; i < 6; i++) {
      await expect.poll(() => held.length).toBeGreaterThan(i)
      expect(held.length - i).toBeLessThanOrEqual(2)
      held[i].release()
    }
    expect((await Promise.all(answers)).map(r => r.outputs[0].data[0])).toEqual([2, 4, 6, 8, 10, 12])
    expect(handler.stats().errorReplies).toBe(0)
  })

  it('reuses the arrays of answered image frames, never those of a frame still in flight, and every answer is its own', async () => {
    const { engine, held } = heldEngine()
    const s = await setup(engine)
    // 64x64 RGB scaled to [0, 1]: sent as unit bytes, widened into a pooled float32 array.
    const image = (v: number): TensorData[] => [{ dtype: 'float32', shape: [1, 64, 64, 3], data: Float32Array.from({ length: 12_288 }, (_, i) => UNIT_BYTE_VALUES[(v + i) % 256]) }]
    const firstTwo = [1, 2].map(async v => await s.invoke(s.peer, 'm', image(v), { deadlineMs: 5000 }))
    await expect.poll(() => held.length).toBe(2)
    held[0].release()
    expect((await firstTwo[0]).outputs[0].data[0]).toBe(2 * UNIT_BYTE_VALUES[1])
    // One request of the frame is still running on its rows: nothing is given back yet.
    expect(s.handler.pooledArrays().heldBytes).toBe(0)
    held[1].release()
    await firstTwo[1]
    await expect.poll(() => s.handler.pooledArrays().heldBytes).toBeGreaterThan(0)
    for (let v = 3; v < 13; v++) {
      const answer = s.invoke(s.peer, 'm', image(v), { deadlineMs: 5000 })
      await expect.poll(() => held.length).toBe(v)
      held[v - 1].release()
      const out = (await answer).outputs[0].data
      expect([out[0], out[12_287]]).toEqual([2 * UNIT_BYTE_VALUES[v % 256], 2 * UNIT_BYTE_VALUES[(v + 12_287) % 256]])
    }
    // The first two went as one frame of 2 rows (another length): requests 4 to 12 reuse the array of 3.
    expect(s.handler.pooledArrays().reused).toBeGreaterThanOrEqual(9)
  })

  it('the server closes a stream once it has been idle since its last answer', async () => {
    const { engine, held } = heldEngine()
    const handler = createInferHandler({ registrar, engine, load: () => LOAD }, { pipeIdleTimeoutMs: 40 })
    const cm = pairedConnectionManager(async (stream) => { await handler.handlePipe(stream) })
    const invoke = createRemoteInvoker({ connectionManager: cm }, { idleTimeoutMs: 60_000 })
    cleanup.push(async () => { invoke.close(); await Promise.all(cm.served) })
    const peer = await randomPeerId()
    const answer = invoke(peer, 'm', row(1), { deadlineMs: 5000 })
    await expect.poll(() => held.length).toBe(1)
    held[0].release()
    expect((await answer).outputs[0].data[0]).toBe(2)
    // Idle from the answer on: the server closes its side and the caller's session ends.
    await expect.poll(() => invoke.sessions(), { timeout: 2000 }).toBe(0)
  })

  it('closes an idle stream and opens a new one for the next request', async () => {
    const { engine, held } = heldEngine()
    const s = await setup(engine, { idleTimeoutMs: 20 })
    const answer = s.invoke(s.peer, 'm', row(1), { deadlineMs: 5000 })
    await expect.poll(() => held.length).toBe(1)
    held[0].release()
    await answer
    await expect.poll(() => s.invoke.sessions()).toBe(0)
    const again = s.invoke(s.peer, 'm', row(2), { deadlineMs: 5000 })
    await expect.poll(() => held.length).toBe(2)
    held[1].release()
    expect((await again).outputs[0].data[0]).toBe(4)
    expect(s.opened).toHaveLength(2)
  })

  it('falls back to 1.0.0 for a peer that does not speak 1.1.0, and remembers it', async () => {
    const { engine, held } = heldEngine()
    const handler = createInferHandler({ registrar, engine })
    const protocols: string[] = []
    const cm = pairedConnectionManager(async (stream, protocol) => { await handler.handle(stream) })
    const invoke = createRemoteInvoker({
      connectionManager: {
        openStream: async (peer, protocol, options) => {
          protocols.push(String(protocol))
          if (protocol === INFER_PIPE_PROTOCOL) throw Object.assign(new Error('protocol selection failed'), { name: 'UnsupportedProtocolError' })
          return await cm.openStream(peer as any, protocol as string)
        }
      }
    })
    const peer = await randomPeerId()
    for (const v of [1, 2]) {
      const answer = invoke(peer, 'm', row(v), { deadlineMs: 5000 })
      await expect.poll(() => held.length).toBe(v)
      held[v - 1].release()
      expect((await answer).serverLoad).toBeUndefined()
    }
    expect(protocols).toEqual([INFER_PIPE_PROTOCOL, INFER_PROTOCOL, INFER_PROTOCOL])
    await Promise.all(cm.served)
  })
})

describe('/edge-mesh/infer/1.1.0 malformed input', () => {
  async function rawStream (handler: InferHandler): Promise<{ stream: Stream, served: Promise<void> }> {
    const [outbound, inbound] = await streamPair()
    return { stream: outbound, served: handler.handlePipe(inbound) }
  }

  it('answers an undecodable frame with an error frame for its ids and keeps the stream', async () => {
    const { engine, held } = heldEngine()
    const s = await setup(engine)
    const { stream, served } = await rawStream(s.handler)
    const reader = new FrameReader(stream)
    const good = encodePipeRequest('m', [{ id: 9, rows: 1, deadlineMs: 5000 }], [toWireInputs(row(4), false)]).subarray()
    const bad = good.slice()
    new DataView(bad.buffer).setUint32(8, 3) // rows do not match the tensors
    await writeFrame(stream, bad)
    expect(decodePipeResponse(await reader.expect('error'))).toMatchObject({ type: 'error', id: 9, code: ErrorCode.InvalidMessage, load: LOAD })
    await writeFrame(stream, Uint8Array.from([0xde, 0xad]))
    expect(decodePipeResponse(await reader.expect('error'))).toMatchObject({ type: 'error', id: 0, code: ErrorCode.InvalidMessage })
    await writeFrame(stream, good)
    await expect.poll(() => held.length).toBe(1)
    held[0].release()
    expect(decodePipeResponse(await reader.expect('result'))).toMatchObject({ type: 'result', id: 9 })
    expect(s.handler.stats().malformed).toBe(2)
    await stream.close()
    await served
  })

  it('resets a stream whose framing is broken, leaving other streams alone', async () => {
    const { engine, held } = heldEngine()
    const s = await setup(engine)
    const answer = s.invoke(s.peer, 'm', row(1), { deadlineMs: 5000 })
    await expect.poll(() => held.length).toBe(1)
    const { stream, served } = await rawStream(s.handler)
    stream.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))
    await served
    await expect(new FrameReader(stream).next()).rejects.toThrow()
    held[0].release()
    expect((await answer).outputs[0].data[0]).toBe(2)
    expect(s.handler.stats().aborted).toBe(1)
  })

  it('answers requests beyond the in-flight limit busy', async () => {
    const { engine, held } = heldEngine()
    const handler = createInferHandler({ registrar, engine, load: () => LOAD }, { pipeMaxInFlight: 1 })
    const { stream, served } = await rawStream(handler)
    const reader = new FrameReader(stream)
    const frame = encodePipeRequest('m', [1, 2].map(id => ({ id, rows: 1, deadlineMs: 5000 })), [toWireInputs(row(1), false), toWireInputs(row(2), false)])
    await writeFrame(stream, frame)
    expect(decodePipeResponse(await reader.expect('busy'))).toMatchObject({ type: 'error', id: 2, code: ErrorCode.PeerBusy })
    await expect.poll(() => held.length).toBe(1)
    held[0].release()
    expect(decodePipeResponse(await reader.expect('result'))).toMatchObject({ type: 'result', id: 1 })
    await stream.close()
    await served
  })
})
