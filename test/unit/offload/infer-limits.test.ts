/**
 * docs/protocols.md, /edge-mesh/infer/1.0.0 "Limits": streams beyond the
 * per-connection limit get a PeerBusy error frame under their request id (not
 * a reset), and a request that does not arrive whole is answered under its id
 * once the prefix and 10 bytes arrived.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { describe, expect, it } from 'vitest'
import { decodeResponse, encodeRequest } from '../../../src/offload/codec.js'
import { ErrorCode } from '../../../src/wire/error-codes.js'
import { DEFAULT_INFER_MAX_INBOUND_STREAMS, INFER_REGISTRAR_STREAMS_FACTOR } from '../../../src/offload/constants.js'
import { createInferHandler } from '../../../src/offload/infer-handler.js'
import { createInferenceEngine } from '../../../src/offload/server.js'
import { FrameReader, writeFrame } from '../../../src/wire/framing.js'
import { FakeRuntime, randomPeerId, tensor } from './protocol-fixtures.js'
import type { InferResponse } from '../../../src/offload/codec.js'
import type { Connection } from '@libp2p/interface'

async function setup (maxInboundStreams: number): Promise<{ runtime: FakeRuntime, handle: (bytes: Uint8Array, framed?: boolean) => Promise<InferResponse>, served: Array<Promise<void>>, limits: any[] }> {
  const runtime = new FakeRuntime()
  const engine = createInferenceEngine({ runtime }, { capacity: 8, batching: false })
  engine.start()
  const limits: any[] = []
  const registrar = { handle: async (_p: string, _h: unknown, options: unknown) => { limits.push(options) }, unhandle: async () => {} }
  const handler = createInferHandler({ registrar, engine: engine.invoke }, { maxInboundStreams })
  await handler.start()
  const connection = { id: 'conn-1', remotePeer: peerIdFromString(await randomPeerId()) } as unknown as Connection
  const served: Array<Promise<void>> = []
  const handle = async (bytes: Uint8Array, framed = true): Promise<InferResponse> => {
    const [outbound, inbound] = await streamPair()
    served.push(handler.handle(inbound, connection))
    if (framed) await writeFrame(outbound, bytes)
    else outbound.send(bytes)
    await outbound.close()
    return decodeResponse(await new FrameReader(outbound).expect('the reply'))
  }
  return { runtime, handle, served, limits }
}

const request = (requestId: bigint): Uint8Array =>
  encodeRequest({ requestId, deadlineMs: 5000, modelId: 'double', inputs: [tensor([[1, 2, 3, 4]])] }).subarray()

describe('infer stream limits', () => {
  it('registers above the documented limit so the handler, not libp2p, refuses the excess', async () => {
    const { limits } = await setup(DEFAULT_INFER_MAX_INBOUND_STREAMS)
    expect(limits[0].maxInboundStreams).toBe(DEFAULT_INFER_MAX_INBOUND_STREAMS * INFER_REGISTRAR_STREAMS_FACTOR)
  })

  it('answers a stream beyond maxInboundStreams with PeerBusy under its request id, and serves again once one ends', async () => {
    const s = await setup(2)
    let release = (): void => {}
    s.runtime.gate = new Promise<void>(resolve => { release = resolve })
    const held = [s.handle(request(1n)), s.handle(request(2n))]
    await new Promise<void>(resolve => { const poll = (): void => { s.runtime.calls.length === 2 ? resolve() : setImmediate(poll) }; poll() })
    expect(await s.handle(request(3n))).toMatchObject({ type: 'error', requestId: 3n, code: ErrorCode.PeerBusy })
    release()
    expect((await Promise.all(held)).map(r => r.type)).toEqual(['result', 'result'])
    expect(await s.handle(request(4n))).toMatchObject({ type: 'result', requestId: 4n })
    await Promise.all(s.served)
  })

  it('answers a truncated request under its request id once 10 bytes of the frame arrived', async () => {
    const s = await setup(2)
    const frame = request(77n)
    const prefixed = Uint8Array.from([...[frame.length & 0x7f | 0x80, frame.length >> 7], ...frame])
    expect(await s.handle(prefixed.subarray(0, 2 + 12), false)).toMatchObject({ type: 'error', requestId: 77n, code: ErrorCode.Protocol })
    expect(await s.handle(prefixed.subarray(0, 2 + 9), false)).toMatchObject({ type: 'error', requestId: 0n, code: ErrorCode.Protocol })
    await Promise.all(s.served)
  })
})
