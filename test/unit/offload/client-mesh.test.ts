/**
 * Two or three offload services wired to each other through in-memory stream
 * pairs: the real infer and model protocols, no libp2p host.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { TypedEventEmitter } from 'main-event'
import { afterEach, describe, expect, it } from 'vitest'
import { LocalLoadRegister } from '../../../src/gossip/local-load.js'
import { modelTransfer } from '../../../src/model-transfer/index.js'
import { offload } from '../../../src/offload/index.js'
import { asRuntime, FakeRuntime, tensor } from './protocol-fixtures.js'
import type { LoadGossipEvents, LoadReport, LoadView, PeerLoad } from '../../../src/gossip/types.js'
import type { ModelTransferService } from '../../../src/model-transfer/index.js'
import type { OffloadService } from '../../../src/offload/index.js'
import type { PeerId, Stream } from '@libp2p/interface'

type Handler = (stream: Stream, connection: unknown) => Promise<void>

class MeshView extends TypedEventEmitter<LoadGossipEvents> implements LoadView {
  entries: PeerLoad[] = []
  peers (): PeerLoad[] { return this.entries }
  get (peerId: string): PeerLoad | undefined { return this.entries.find(e => e.peerId === peerId) }
  self (): LoadReport | undefined { return undefined }
  stats (): { sent: number, received: number, rejected: number } { return { sent: 0, received: 0, rejected: 0 } }
}

interface MeshNode { id: string, runtime: FakeRuntime, view: MeshView, service: OffloadService, transfer: ModelTransferService }

const handlers = new Map<string, Map<string, Handler>>()
const nodes: MeshNode[] = []
/** Protocols of every stream opened, in order. */
const opened: string[] = []

async function node (runtime: FakeRuntime): Promise<MeshNode> {
  const peerId: PeerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const id = peerId.toString()
  const own = new Map<string, Handler>()
  handlers.set(id, own)
  const view = new MeshView()
  const components = {
    peerId,
    logger: defaultLogger(),
    registrar: {
      handle: async (protocol: string, handler: Handler) => { own.set(protocol, handler) },
      unhandle: async (protocol: string) => { own.delete(protocol) }
    } as any,
    connectionManager: {
      openStream: async (peer: PeerId, protocol: string) => {
        const handler = handlers.get(peer.toString())?.get(protocol)
        if (handler == null) throw new Error(`${peer.toString()} does not handle ${protocol}`)
        opened.push(protocol)
        const [outbound, inbound] = await streamPair()
        void handler(inbound, { remotePeer: peerId })
        return outbound
      }
    } as any,
    models: asRuntime(runtime),
    loadView: view,
    localLoad: new LocalLoadRegister({ capacity: 4 })
  }
  const transfer = modelTransfer()(components)
  const service = offload({ hedging: false })({ ...components, modelTransfer: transfer })
  await transfer.start()
  await service.start()
  const n = { id, runtime, view, service, transfer }
  nodes.push(n)
  return n
}

/** Let every node see every other node's models, as load gossip would. */
function gossip (): void {
  for (const n of nodes) {
    n.view.entries = nodes.filter(o => o !== n).map(o => ({
      peerId: o.id,
      receivedAt: Date.now(),
      report: {
        seq: 1, timestamp: Date.now(), cpu: 0, memFree: 1, inFlight: 0, queued: 0, capacity: 4, backend: 'cpu',
        models: o.runtime.list().map(m => m.id), training: false, canTrain: false, role: 'edge', name: '', addrs: []
      }
    }))
  }
}

afterEach(async () => {
  await Promise.all(nodes.map(async n => { await n.service.stop(); await n.transfer.stop() }))
  nodes.length = 0
  opened.length = 0
  handlers.clear()
})

describe('offload between services', () => {
  it('runs a request on the peer that holds the model', async () => {
    const a = await node(new FakeRuntime({}))
    const b = await node(new FakeRuntime({ double: 2 }))
    gossip()
    const r = await a.service.infer('double', [tensor([[1, 2, 3, 4]])])
    expect(r.servedBy).toBe(b.id)
    expect(Array.from(r.outputs[0].data)).toEqual([2, 4, 6, 8])
    expect(a.service.stats()).toMatchObject({ servedRemotely: 1, byPeer: { [b.id]: 1 } })
    expect(b.service.stats().servedForPeers).toBe(1)
  })

  it('pipelines concurrent requests to a peer over one 1.1.0 stream and feeds its load to the load view', async () => {
    const a = await node(new FakeRuntime({}))
    const b = await node(new FakeRuntime({ double: 2 }))
    gossip()
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map(async v => await a.service.infer('double', [tensor([[v, v, v, v]])], { prefer: 'remote' })))
    expect(results.map(r => r.outputs[0].data[0])).toEqual([2, 4, 6, 8, 10, 12])
    // Infer streams only: spot checks and model transfer may open streams of their own.
    expect(opened.filter(p => p.startsWith('/edge-mesh/infer/')), JSON.stringify(opened)).toEqual(['/edge-mesh/infer/1.1.0'])
    // The load piggybacked on b's answers reached a's load estimate.
    expect(a.service.loadEstimate.observation(b.id)).toMatchObject({ capacity: 4 })
  })

  it('a peer without the model fetches it from the requester, then serves', async () => {
    const aRuntime = new FakeRuntime({})
    const modelId = aRuntime.addArtifacts({ modelJson: new TextEncoder().encode('{"m":1}'), weights: new Uint8Array([1, 2, 3]) })
    const a = await node(aRuntime)
    const b = await node(new FakeRuntime({}))
    gossip()
    const r = await a.service.infer(modelId, [tensor([[5, 6, 7, 8]])], { prefer: 'remote' })
    expect(r.servedBy).toBe(b.id)
    expect(b.runtime.has(modelId)).toBe(true)
  })

  it('a node without the model fetches it from an announcing peer to run it locally', async () => {
    const bRuntime = new FakeRuntime({})
    const modelId = bRuntime.addArtifacts({ modelJson: new TextEncoder().encode('{"m":2}'), weights: new Uint8Array([4]) })
    const a = await node(new FakeRuntime({}))
    await node(bRuntime)
    gossip()
    const r = await a.service.infer(modelId, [tensor([[1, 1, 1, 1]])], { prefer: 'local' })
    expect(r.servedBy).toBe(a.id)
    expect(a.runtime.has(modelId)).toBe(true)
  })

  it('falls back to this node when the holder peer is gone', async () => {
    const a = await node(new FakeRuntime({ double: 2 }))
    const b = await node(new FakeRuntime({ double: 2 }))
    gossip()
    handlers.delete(b.id)
    const r = await a.service.infer('double', [tensor([[1, 0, 0, 0]])], { prefer: 'remote' })
    expect(r.servedBy).toBe(a.id)
    expect(r.attemptLog[0]).toMatchObject({ peerId: b.id })
  })
})
