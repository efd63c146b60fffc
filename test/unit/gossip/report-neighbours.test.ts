/** What the load gossip service puts in its own report (version 3): neighbours bounded to 16, all connections counted, offload counters. */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { TypedEventEmitter } from 'main-event'
import { describe, expect, it } from 'vitest'
import { decodeLoadReport } from '../../../src/gossip/codec.js'
import { MAX_NEIGHBOURS } from '../../../src/gossip/constants.js'
import { loadGossip, localLoad } from '../../../src/gossip/index.js'
import type { LoadGossipComponents } from '../../../src/gossip/index.js'

async function peerIds (count: number): Promise<string[]> {
  return await Promise.all(Array.from({ length: count }, async (_, i) =>
    peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(i + 1))).toString()))
}

/** A load gossip service over stubs; resolves with the bytes of its first published report. */
async function firstReport (connected: string[]): Promise<Uint8Array> {
  const published: Uint8Array[] = []
  const pubsub = Object.assign(new TypedEventEmitter(), {
    topicValidators: new Map(),
    subscribe: () => {},
    unsubscribe: () => {},
    publish: async (_topic: string, data: Uint8Array) => { published.push(data) }
  })
  const components = {
    peerId: peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', new Uint8Array(32))),
    logger: defaultLogger(),
    addressManager: { getAddresses: () => [] },
    events: new TypedEventEmitter(),
    pubsub,
    localLoad: localLoad({ capacity: 4 })(),
    // Two connections to the first peer: it is one neighbour.
    connectionManager: { getConnections: () => [connected[0], ...connected].filter(Boolean).map(id => ({ remotePeer: { toString: () => id } })) },
    offload: { stats: () => ({ servedLocally: 5, servedRemotely: 3, servedForPeers: 2, failed: 1 }) }
  } as unknown as LoadGossipComponents
  const service = loadGossip({ name: 'me' })(components)
  service.start()
  service.afterStart()
  await service.publishNow()
  service.stop()
  return published[0]
}

describe('the load gossip service\'s own report', () => {
  it('lists the connected peers in id order and reports the offload counters', async () => {
    const ids = await peerIds(3)
    const report = decodeLoadReport(await firstReport(ids))
    expect(report.neighbours).toEqual([...ids].sort())
    expect(report.connections).toBe(3)
    expect(report.traffic).toEqual({ servedLocally: 5, servedRemotely: 3, servedForPeers: 2 })
  })

  it(`lists at most ${MAX_NEIGHBOURS} neighbours however many peers are connected, and counts them all`, async () => {
    const ids = await peerIds(40)
    const report = decodeLoadReport(await firstReport(ids))
    expect(report.neighbours).toEqual([...ids].sort().slice(0, MAX_NEIGHBOURS))
    expect(report.connections).toBe(40)
  })
})
