import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { TypedEventEmitter } from 'main-event'
import { describe, expect, it } from 'vitest'
import { LocalLoadRegister } from '../../../src/gossip/local-load.js'
import { INFER_PIPE_PROTOCOL, INFER_PROTOCOL } from '../../../src/offload/constants.js'
import { LOAD_PROBE_PROTOCOL } from '../../../src/offload/scheduler-constants.js'
import { createInferHandler } from '../../../src/offload/infer-handler.js'
import { OffloadService } from '../../../src/offload/offload.js'
import { pairedConnectionManager } from './protocol-fixtures.js'
import type { LoadGossipEvents, LoadReport, LoadView, PeerLoad } from '../../../src/gossip/types.js'
import type { ModelRuntime, TensorData } from '../../../src/model/types.js'
import type { OffloadComponents } from '../../../src/offload/index.js'

const input: TensorData[] = [{ shape: [1, 2], dtype: 'float32', data: new Float32Array([1, 2]) }]

function report (models: string[]): LoadReport {
  return {
    seq: 1, timestamp: Date.now(), cpu: 0, memFree: 1, inFlight: 0, queued: 0, capacity: 4, backend: 'cpu',
    models, training: false, canTrain: false, role: 'edge', name: 'peer', addrs: []
  }
}

class FakeLoadView extends TypedEventEmitter<LoadGossipEvents> implements LoadView {
  constructor (readonly entries: PeerLoad[] = []) { super() }
  peers (): PeerLoad[] { return this.entries }
  get (peerId: string): PeerLoad | undefined { return this.entries.find(e => e.peerId === peerId) }
  self (): LoadReport | undefined { return undefined }
  stats (): { sent: number, received: number, rejected: number } { return { sent: 0, received: 0, rejected: 0 } }
}

async function setup (peers: PeerLoad[] = [], connectionManager?: OffloadComponents['connectionManager']): Promise<{ service: OffloadService, handled: string[], unhandled: string[], opened: string[] }> {
  const handled: string[] = []
  const unhandled: string[] = []
  const opened: string[] = []
  const models = {
    backend: 'cpu',
    has: (id: string) => id === 'm',
    get: (id: string) => id === 'm' ? { id, name: 'm', inputShapes: [[-1, 2]], outputShapes: [[-1, 1]], parameters: 2, sizeBytes: 8 } : undefined,
    predict: async (_id: string, inputs: TensorData[]) => [{ shape: [inputs[0].shape[0], 1], dtype: 'float32', data: new Float32Array(inputs[0].shape[0]) }]
  } as unknown as ModelRuntime
  const components: OffloadComponents = {
    peerId: peerIdFromPrivateKey(await generateKeyPair('Ed25519')),
    registrar: {
      handle: async (protocol: string) => { handled.push(protocol) },
      unhandle: async (protocol: string) => { unhandled.push(protocol) }
    },
    connectionManager: connectionManager ?? {
      openStream: async (peer: any) => { opened.push(peer.toString()); throw new Error('connection refused') }
    } as unknown as OffloadComponents['connectionManager'],
    logger: defaultLogger(),
    models,
    loadView: new FakeLoadView(peers),
    localLoad: new LocalLoadRegister(),
    modelTransfer: { ensure: async () => {} }
  }
  return { service: new OffloadService(components, { hedging: false }), handled, unhandled, opened }
}

describe('OffloadService', () => {
  it('registers its handler on start and removes it on stop, both safe twice', async () => {
    const { service, handled, unhandled } = await setup()
    await service.start()
    await service.start()
    expect(handled).toEqual([INFER_PROTOCOL, INFER_PIPE_PROTOCOL, LOAD_PROBE_PROTOCOL])
    await service.stop()
    await service.stop()
    expect(unhandled).toEqual([INFER_PROTOCOL, INFER_PIPE_PROTOCOL, LOAD_PROBE_PROTOCOL])
  })

  it('refuses requests while stopped', async () => {
    const { service } = await setup()
    expect((await service.infer('m', input).catch(e => e)).name).toBe('NotStartedError')
  })

  it('serves a request locally and counts it', async () => {
    const { service } = await setup()
    await service.start()
    const r = await service.infer('m', input)
    expect(r.outputs[0].shape).toEqual([1, 1])
    expect(r.attempts).toBe(1)
    expect(service.stats()).toMatchObject({ servedLocally: 1, failed: 0, capacity: 4 })
    await service.stop()
  })

  it('falls back to this node when the only peer cannot be reached', async () => {
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const { service, opened } = await setup([{ peerId: peer, report: report(['m']), receivedAt: Date.now() }])
    await service.start()
    const r = await service.infer('m', input, { prefer: 'remote' })
    expect(opened).toEqual([peer])
    expect(r.attemptLog.map(a => a.outcome)).toEqual(['Error', 'ok'])
    expect(r.servedBy).not.toBe(peer)
    await service.stop()
  })

  it('closes its pipelined infer streams when it stops', async () => {
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const served = createInferHandler({ registrar: { handle: async () => {}, unhandle: async () => {} }, engine: async (_m, inputs) => ({ outputs: inputs, queueMs: 0, computeMs: 0, batchSize: 1 }) })
    let ended = false
    const cm = pairedConnectionManager(async (stream) => { await served.handlePipe(stream); ended = true })
    const { service } = await setup([{ peerId: peer, report: report(['m']), receivedAt: Date.now() }], cm as unknown as OffloadComponents['connectionManager'])
    await service.start()
    expect((await service.infer('m', input, { prefer: 'remote' })).servedBy).toBe(peer)
    expect(ended).toBe(false)
    await service.stop()
    await Promise.all(cm.served)
    expect(ended).toBe(true)
  })

  it('fails with ModelNotFoundError when no node holds the model', async () => {
    const { service } = await setup()
    await service.start()
    expect((await service.infer('other', input).catch(e => e)).name).toBe('ModelNotFoundError')
    await service.stop()
  })
})
