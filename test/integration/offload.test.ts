/**
 * Inference offload between real node processes over TCP + Noise: remote
 * serving, model fetching by content id, a peer killed under load, busy
 * peers, hostile bytes on the wire, load changes reaching peers, and
 * pipelined `/edge-mesh/infer/1.1.0` beside 1.0.0-only callers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { errorFromCode } from '../../src/wire/error-codes.js'
import { decodeResponse, encodeRequest, randomRequestId } from '../../src/offload/codec.js'
import { INFER_PIPE_PROTOCOL, INFER_PROTOCOL } from '../../src/offload/constants.js'
import { decodePipeResponse, encodePipeRequest, toWireInputs } from '../../src/offload/pipe-codec.js'
import { createRemoteInvoker } from '../../src/offload/remote-invoker.js'
import { FrameReader, writeFrame } from '../../src/wire/framing.js'
import { MNIST_MODEL_DIR, MNIST_MODEL_ID, TestCluster, addressOn, inferVia, loopbackAddress, mnistDigit, status, waitFor } from '../fixtures/index.js'
import { createRoguePeer } from '../fixtures/rogue-peer.js'
import type { NodeProcess } from '../fixtures/index.js'

const MODEL = ['--model', MNIST_MODEL_DIR]

async function connectedTo (node: NodeProcess, others: NodeProcess[]): Promise<void> {
  await waitFor('peers connected with the model announced', async () => {
    const s = await status(node)
    return others.every(o => s.peers.some(p => p.peerId === o.peerId && p.connected && p.load != null))
  })
}

describe('inference offload', () => {
  const cluster = new TestCluster()
  let a: NodeProcess
  let b: NodeProcess
  let c: NodeProcess

  beforeAll(async () => {
    a = await cluster.start('offload-a', [...MODEL, '--max-queue', '512'])
    const boot = ['--bootstrap', addressOn(a, loopbackAddress(0))]
    b = await cluster.start('offload-b', [...MODEL, ...boot])
    c = await cluster.start('offload-c', boot)
    await connectedTo(a, [b, c])
    await connectedTo(c, [a, b])
  })
  afterAll(async () => { await cluster.cleanup() })

  it('serves prefer: remote on another peer with outputs equal to local inference', async () => {
    const input = await mnistDigit(7)
    const local = await inferVia(a, { model: MNIST_MODEL_ID, inputs: [input], prefer: 'local' })
    const remote = await inferVia(a, { model: MNIST_MODEL_ID, inputs: [input], prefer: 'remote', deadlineMs: 30_000 })
    expect(local.status).toBe(200)
    expect(remote.status).toBe(200)
    expect(local.body.servedBy).toBe(a.peerId)
    expect(remote.body.servedBy).not.toBe(a.peerId)
    expect(remote.body.outputs[0].shape).toEqual([1, 10])
    const l = local.body.outputs[0].data
    const r = remote.body.outputs[0].data
    for (let i = 0; i < 10; i++) expect(r[i]).toBeCloseTo(l[i], 5)
    expect(l.indexOf(Math.max(...l))).toBe(7)
    expect(remote.body.latencyMs.totalMs).toBeGreaterThan(0)
  })

  it('a peer without the model fetches it by content id and serves it', async () => {
    expect((await status(c)).models).toHaveLength(0)
    const res = await inferVia(c, { model: MNIST_MODEL_ID, inputs: [await mnistDigit(3)], prefer: 'local', deadlineMs: 60_000 })
    expect(res.status).toBe(200)
    expect(res.body.servedBy).toBe(c.peerId)
    const out = res.body.outputs[0].data as number[]
    expect(out.indexOf(Math.max(...out))).toBe(3)
    expect((await status(c)).models.map(m => m.id)).toContain(MNIST_MODEL_ID)
  })

  it('answers bad requests with typed errors', async () => {
    const wrongShape = await inferVia(a, { model: MNIST_MODEL_ID, inputs: [{ shape: [1, 3], dtype: 'float32', data: [1, 2, 3] }] })
    expect(wrongShape.status).toBe(400)
    expect(wrongShape.body.error.name).toBe('InvalidTensorError')
    const unknown = await inferVia(a, { model: 'sha256-' + '0'.repeat(64), inputs: [await mnistDigit()] })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.name).toBe('ModelNotFoundError')
    const badJson = await fetch(`${a.apiUrl}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' })
    expect(badJson.status).toBe(400)
  })

  it('completes all 200 concurrent requests when the serving peer is killed mid-flight', async () => {
    const victim = await cluster.start('offload-victim', [...MODEL, '--simulate-slowdown', '20', '--capacity', '8', '--max-queue', '256', '--bootstrap', addressOn(a, loopbackAddress(0))])
    await connectedTo(a, [victim])
    const input = await mnistDigit(7)
    const requests = Array.from({ length: 200 }, async () => await inferVia(a, { model: MNIST_MODEL_ID, inputs: [input], prefer: 'remote', deadlineMs: 60_000 }))
    // Kill it mid-flight, once it has answered some requests (so both it and the fallback serve) and still holds others.
    await waitFor('the victim is busy and has served a peer', async () => {
      const s = await status(victim)
      return (s.load?.traffic?.servedForPeers ?? 0) > 0 && (s.load?.inFlight ?? 0) + (s.load?.queued ?? 0) > 0
    }, 60_000, 20)
    await victim.kill()
    const results = await Promise.all(requests)
    const failed = results.filter(r => r.status !== 200)
    expect(failed.map(r => r.body.error)).toEqual([])
    for (const r of results) {
      const out = r.body.outputs[0].data as number[]
      expect(out.indexOf(Math.max(...out))).toBe(7)
    }
    const servers = new Set(results.map(r => r.body.servedBy))
    expect(servers.size).toBeGreaterThan(1)
  })
})

describe('a full peer', () => {
  const cluster = new TestCluster()
  afterAll(async () => { await cluster.cleanup() })

  it('answers busy at once and the request is served elsewhere', async () => {
    const full = await cluster.start('full', [...MODEL, '--capacity', '1', '--max-queue', '0', '--simulate-slowdown', '200'])
    const asker = await cluster.start('asker', [...MODEL, '--bootstrap', addressOn(full, loopbackAddress(0))])
    await connectedTo(asker, [full])
    const input = await mnistDigit(7)
    const results = await Promise.all(Array.from({ length: 6 }, async () => await inferVia(asker, { model: MNIST_MODEL_ID, inputs: [input], prefer: 'remote', deadlineMs: 60_000 })))
    expect(results.every(r => r.status === 200)).toBe(true)
    const bounced = results.filter(r => r.body.attemptLog.some((a: any) => a.peerId === full.peerId && a.outcome === 'PeerBusyError'))
    expect(bounced.length).toBeGreaterThan(0)
    for (const r of bounced) expect(r.body.servedBy).toBe(asker.peerId)
  })

  it('shows its load change in its peers\' status within two report intervals', async () => {
    const [full, asker] = cluster.nodes
    const input = await mnistDigit(7)
    const burst = Array.from({ length: 3 }, async () => await inferVia(full, { model: MNIST_MODEL_ID, inputs: [input], prefer: 'local', deadlineMs: 60_000 }))
    const busySeq = await waitFor('the node reports itself busy', async () => {
      const self = (await status(full)).load
      return self != null && self.inFlight > 0 ? self.seq : undefined
    }, 30_000, 10)
    const seenAt = await waitFor('the peer sees it', async () => {
      const view = (await status(asker)).peers.find(p => p.peerId === full.peerId)?.load
      return view != null && view.seq >= busySeq && view.inFlight > 0 ? (await status(full)).load?.seq : undefined
    }, 30_000, 10)
    expect(seenAt! - busySeq).toBeLessThanOrEqual(2)
    await Promise.all(burst)
  })
})

describe('hostile bytes on /edge-mesh/infer/1.0.0', () => {
  const cluster = new TestCluster()
  afterAll(async () => { await cluster.cleanup() })

  it('get typed errors and the node keeps serving others', async () => {
    const node = await cluster.start('target', MODEL)
    const rogue = await createRoguePeer(loopbackAddress(7))
    const addr = addressOn(node, loopbackAddress(0))
    const exchange = async (bytes: Uint8Array[]): Promise<string> => {
      const stream = await rogue.node.dialProtocol(await import('@multiformats/multiaddr').then(m => m.multiaddr(addr)), INFER_PROTOCOL)
      for (const b of bytes) stream.send(b)
      await stream.close().catch(() => {})
      const reader = new FrameReader(stream)
      try {
        const frame = await reader.next()
        if (frame == null) return 'closed'
        const response = decodeResponse(frame)
        return response.type === 'error' ? errorFromCode(response.code, response.message).name : 'result'
      } catch (err: any) {
        return `aborted:${String(err?.name)}`
      }
    }
    try {
      const garbage = await exchange([new Uint8Array([5, 0xde, 0xad, 0xbe, 0xef, 0x00])])
      expect(garbage).toBe('InvalidMessageError')
      const oversized = await exchange([new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]), new Uint8Array(64)])
      expect(oversized).toBe('MessageTooLargeError')
      const frame = (request: Parameters<typeof encodeRequest>[0]): Uint8Array => {
        const body = encodeRequest(request).subarray()
        const prefix: number[] = []
        let n = body.length
        while (n >= 0x80) { prefix.push((n & 0x7f) | 0x80); n >>>= 7 }
        prefix.push(n)
        return new Uint8Array([...prefix, ...body])
      }
      const wrongShape = await exchange([frame({ requestId: randomRequestId(), deadlineMs: 5000, modelId: MNIST_MODEL_ID, inputs: [{ shape: [1, 3], dtype: 'float32', data: new Float32Array(3) }] })])
      expect(wrongShape).toBe('InvalidTensorError')
      const unknown = await exchange([frame({ requestId: randomRequestId(), deadlineMs: 5000, modelId: 'sha256-' + '1'.repeat(64), inputs: [{ shape: [1, 784], dtype: 'float32', data: new Float32Array(784) }] })])
      expect(unknown).toBe('ModelNotFoundError')
      const ok = await exchange([frame({ requestId: randomRequestId(), deadlineMs: 5000, modelId: MNIST_MODEL_ID, inputs: [{ shape: [1, 784], dtype: 'float32', data: new Float32Array(784) }] })])
      expect(ok).toBe('result')
      const viaApi = await inferVia(node, { model: MNIST_MODEL_ID, inputs: [await mnistDigit(7)] })
      expect(viaApi.status).toBe(200)
      expect(node.child.exitCode).toBeNull()
    } finally {
      await rogue.stop()
    }
  })
})

describe('/edge-mesh/infer/1.1.0 between real processes', () => {
  const cluster = new TestCluster()
  afterAll(async () => { await cluster.cleanup() })

  it('pipelines requests on one stream, serves 1.0.0-only callers alike, and survives hostile frames', async () => {
    const node = await cluster.start('pipe-target', MODEL)
    const caller = await createRoguePeer(loopbackAddress(8))
    const { multiaddr } = await import('@multiformats/multiaddr')
    const addr = multiaddr(addressOn(node, loopbackAddress(0)))
    await caller.node.dial(addr)
    const opener = { openStream: async (_peer: unknown, protocol: string | string[], options?: { signal?: AbortSignal }) => await caller.node.dialProtocol(addr, protocol, options) }
    const pipelined = createRemoteInvoker({ connectionManager: opener })
    const legacy = createRemoteInvoker({ connectionManager: opener }, { protocol: '1.0.0' })
    try {
      const digits = [await mnistDigit(3), await mnistDigit(7)]
      // Twelve different inputs: the two digits at six brightnesses.
      const inputs = Array.from({ length: 12 }, (_, i) => {
        const d = digits[i % 2]
        return [{ shape: d.shape, dtype: 'float32' as const, data: Float32Array.from(d.data, v => v * (1 - Math.floor(i / 2) * 0.1)) }]
      })
      const viaPipe = await Promise.all(inputs.map(async i => await pipelined(node.peerId, MNIST_MODEL_ID, i, { deadlineMs: 30_000 })))
      expect(pipelined.sessions()).toBe(1)
      expect(viaPipe.every(r => r.serverLoad != null && r.serverLoad.capacity > 0)).toBe(true)
      const viaLegacy = await Promise.all(inputs.map(async i => await legacy(node.peerId, MNIST_MODEL_ID, i, { deadlineMs: 30_000 })))
      viaPipe.forEach((r, i) => {
        // The same answers, whichever protocol carried them (batched or not: within float error).
        const legacyOut = Array.from(viaLegacy[i].outputs[0].data)
        Array.from(r.outputs[0].data).forEach((v, k) => { expect(v).toBeCloseTo(legacyOut[k], 5) })
        const out = Array.from(r.outputs[0].data)
        expect(out.indexOf(Math.max(...out))).toBe(i % 2 === 0 ? 3 : 7)
      })
      // A stranger's garbage frame gets an error frame; the same stream then serves a request.
      const stream = await caller.node.dialProtocol(addr, INFER_PIPE_PROTOCOL)
      const reader = new FrameReader(stream)
      await writeFrame(stream, new Uint8Array([2, 1, 0xde, 0xad]))
      const refused = decodePipeResponse(await reader.expect('an error frame'))
      expect(refused.type === 'error' && errorFromCode(refused.code, refused.message).name).toBe('InvalidMessageError')
      await writeFrame(stream, encodePipeRequest(MNIST_MODEL_ID, [{ id: 5, rows: 1, deadlineMs: 5000 }], [toWireInputs(inputs[5], true)]))
      expect(decodePipeResponse(await reader.expect('a result'))).toMatchObject({ type: 'result', id: 5 })
      // Broken framing resets that stream only.
      stream.send(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))
      await expect(reader.next()).rejects.toThrow()
      expect((await pipelined(node.peerId, MNIST_MODEL_ID, inputs[3], { deadlineMs: 30_000 })).outputs[0].shape).toEqual([1, 10])
      expect(node.child.exitCode).toBeNull()
    } finally {
      pipelined.close()
      await caller.stop()
    }
  })
})
