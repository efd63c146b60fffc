import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { streamPair } from '@libp2p/utils'
import { defaultLogger } from '@libp2p/logger'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FrameReader } from '../../../src/wire/framing.js'
import { ModelCache } from '../../../src/model-transfer/cache.js'
import { modelTransfer } from '../../../src/model-transfer/index.js'
import { requestModel, serveModel } from '../../../src/model-transfer/transfer.js'
import { decodeModelHeader, decodeModelRequest, encodeErrorHeader, encodeFoundHeader, encodeModelRequest } from '../../../src/model-transfer/wire.js'
import { FakeRuntime, asRuntime, randomPeerId } from './protocol-fixtures.js'
import type { ModelTransferComponents, ModelTransferInit } from '../../../src/model-transfer/index.js'
import type { ModelArtifacts } from '../../../src/model/types.js'
import type { Stream } from '@libp2p/interface'

const registrar = { handle: async () => {}, unhandle: async () => {} }

function createModelTransfer (components: Pick<ModelTransferComponents, 'registrar' | 'connectionManager' | 'models'>, init: ModelTransferInit = {}): ReturnType<ReturnType<typeof modelTransfer>> {
  return modelTransfer(init)({ ...components, peerId: { toString: () => 'self' } as any, logger: defaultLogger(), loadView: { peers: () => [] } })
}

function artifacts (weightBytes: number): ModelArtifacts {
  return { modelJson: new TextEncoder().encode(JSON.stringify({ format: 'layers-model', n: weightBytes })), weights: new Uint8Array(randomBytes(weightBytes)) }
}

/** A connection manager over in-memory pairs: each peer id is served by its own runtime (or refuses to connect). */
function mesh (servers: Record<string, FakeRuntime | undefined>, chunkBytes = 16 * 1024): { openStream(peer: { toString(): string }): Promise<Stream>, opened: string[], served: Array<Promise<void>> } {
  const opened: string[] = []
  const served: Array<Promise<void>> = []
  return {
    opened,
    served,
    async openStream (peer) {
      const id = peer.toString()
      opened.push(id)
      const runtime = servers[id]
      if (runtime == null) throw new Error('dial failed')
      // A small capacity forces the sender through onDrain() (backpressure).
      const [outbound, inbound] = await streamPair({ capacity: 2 })
      const server = createModelTransfer({ registrar, connectionManager: { openStream: async () => { throw new Error('unused') } }, models: asRuntime(runtime) }, { chunkBytes })
      served.push(server.handle(inbound))
      return outbound
    }
  }
}

function fetcher (connectionManager: ReturnType<typeof mesh>, runtime: FakeRuntime, init: ModelTransferInit = {}): ReturnType<ReturnType<typeof modelTransfer>> {
  return createModelTransfer({ registrar, connectionManager, models: asRuntime(runtime) }, init)
}

describe('model transfer wire', () => {
  it('round trips control frames and rejects bad ones', () => {
    expect(decodeModelRequest(encodeModelRequest('sha256-ab'))).toBe('sha256-ab')
    expect(decodeModelHeader(encodeFoundHeader(10, 20))).toEqual({ type: 'found', modelJsonBytes: 10, weightsBytes: 20 })
    expect(decodeModelHeader(encodeErrorHeader(new Error('x')))).toMatchObject({ type: 'error', code: 1, message: 'x' })
    expect(() => decodeModelRequest(Uint8Array.from([1, 1, 0]))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
    expect(() => decodeModelHeader(Uint8Array.from([1, 2, 0]))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
    expect(() => encodeModelRequest('')).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
  })
})

describe('/edge-mesh/model/1.0.0', () => {
  let peers: string[]

  beforeEach(async () => {
    peers = await Promise.all([randomPeerId(), randomPeerId(), randomPeerId()])
  })

  it('transfers a model in chunks with backpressure and loads it verified', async () => {
    const source = new FakeRuntime({})
    const model = artifacts(200_000)
    const id = source.addArtifacts(model)
    const net = mesh({ [peers[0]]: source })
    const local = new FakeRuntime({})
    const info = await fetcher(net, local).fetchModel(peers[0], id)
    await Promise.all(net.served)
    expect(info.id).toBe(id)
    expect(local.has(id)).toBe(true)
    expect(local.exportArtifacts(id)).toEqual(model)
    expect(local.exportArtifacts(id).weights.byteOffset).toBe(0)
  })

  it('answers an unknown id with ModelNotFoundError', async () => {
    const net = mesh({ [peers[0]]: new FakeRuntime({}) })
    await expect(fetcher(net, new FakeRuntime({})).fetchModel(peers[0], 'sha256-00')).rejects.toThrow(expect.objectContaining({ name: 'ModelNotFoundError' }))
    await Promise.all(net.served)
  })

  it('refuses bytes that do not hash to the requested id', async () => {
    const source = new FakeRuntime({})
    const id = source.addArtifacts(artifacts(1000))
    source.artifacts.set(id, artifacts(1000))
    const local = new FakeRuntime({})
    await expect(fetcher(mesh({ [peers[0]]: source }), local).fetchModel(peers[0], id)).rejects.toThrow(expect.objectContaining({ name: 'InvalidModelError' }))
    expect(local.has(id)).toBe(false)
  })

  it('refuses models above the size limit', async () => {
    const source = new FakeRuntime({})
    const id = source.addArtifacts(artifacts(5000))
    await expect(fetcher(mesh({ [peers[0]]: source }), new FakeRuntime({}), { maxModelBytes: 1000 }).fetchModel(peers[0], id))
      .rejects.toThrow(expect.objectContaining({ name: 'MessageTooLargeError' }))
  })

  it('tries candidates in turn and reports every failure when all fail', async () => {
    const source = new FakeRuntime({})
    const id = source.addArtifacts(artifacts(3000))
    const net = mesh({ [peers[0]]: undefined, [peers[1]]: new FakeRuntime({}), [peers[2]]: source })
    const info = await fetcher(net, new FakeRuntime({})).fetch(id, peers)
    expect(info.id).toBe(id)
    expect(net.opened).toEqual(peers)

    const none = mesh({ [peers[0]]: undefined, [peers[1]]: new FakeRuntime({}) })
    const err = await fetcher(none, new FakeRuntime({})).fetch(id, peers.slice(0, 2)).catch(e => e)
    expect(err.name).toBe('AllPeersFailedError')
    expect(err.errors.map((e: Error) => e.name)).toEqual(['Error', 'ModelNotFoundError'])
  })

  it('fails with ProtocolError when the server announces more bytes than it sends', async () => {
    const [outbound, inbound] = await streamPair()
    const server = (async () => {
      for await (const _ of inbound) { break }
      inbound.send(Uint8Array.from([10, ...encodeFoundHeader(4, 4)]))
      inbound.send(Uint8Array.from([2, 1, 2]))
      await inbound.close()
    })()
    await expect(requestModel(outbound, 'sha256-aa')).rejects.toThrow(expect.objectContaining({ name: 'ProtocolError' }))
    await server
  })

  it('serves a malformed request with an error header', async () => {
    const [outbound, inbound] = await streamPair()
    const served = serveModel(inbound, asRuntime(new FakeRuntime({})))
    outbound.send(Uint8Array.from([3, 9, 9, 9]))
    await outbound.close()
    expect(decodeModelHeader(await new FrameReader(outbound).expect('header'))).toMatchObject({ type: 'error', code: 2 })
    await served
  })
})

describe('model cache', () => {
  let dir: string

  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'edge-mesh-cache-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('keeps fetched models and loads them at the next start', async () => {
    const peer = await randomPeerId()
    const source = new FakeRuntime({})
    const id = source.addArtifacts(artifacts(4000))
    const first = fetcher(mesh({ [peer]: source }), new FakeRuntime({}), { cacheDir: dir })
    await first.start()
    await first.fetchModel(peer, id)
    expect(first.cache?.ids()).toEqual([id])

    const restarted = new FakeRuntime({})
    const second = fetcher(mesh({}), restarted, { cacheDir: dir })
    await second.start()
    await second.afterStart()
    expect(restarted.has(id)).toBe(true)
    expect((await second.fetch(id, [])).id).toBe(id)
  })

  it('drops a cached entry whose bytes no longer match its id', async () => {
    const cache = new ModelCache({ dir })
    await cache.open()
    const model = artifacts(100)
    const source = new FakeRuntime({})
    const id = source.addArtifacts(model)
    await cache.put(id, model)
    await writeFile(join(dir, id, 'weights.bin'), new Uint8Array(100))
    const runtime = new FakeRuntime({})
    const transfer = fetcher(mesh({}), runtime, { cacheDir: dir })
    await transfer.start()
    await transfer.afterStart()
    expect(runtime.has(id)).toBe(false)
    expect(await readdir(dir)).toEqual([])
  })

  it('evicts the least recently used entries beyond its byte bound', async () => {
    const cache = new ModelCache({ dir, maxBytes: 2500 })
    await cache.open()
    const a = artifacts(1000)
    const b = artifacts(1000)
    const c = artifacts(1000)
    await cache.put('a', a)
    await cache.put('b', b)
    expect(await cache.get('a')).toEqual(a)
    await cache.put('c', c)
    expect(cache.ids()).toEqual(['a', 'c'])
    expect(cache.totalBytes).toBeLessThanOrEqual(2500)
    await cache.put('huge', artifacts(5000))
    expect(cache.has('huge')).toBe(false)
    await expect(cache.put('../escape', a)).rejects.toThrow(expect.objectContaining({ name: 'InvalidModelError' }))

    const reopened = new ModelCache({ dir, maxBytes: 2500 })
    await reopened.open()
    expect(reopened.ids().sort()).toEqual(['a', 'c'])
  })
})
