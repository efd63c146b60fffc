/**
 * Requests aimed at one given peer, for the phases that load a single serving
 * process (throughput, memory, pipeline): the offload client's own remote
 * invoker (`/edge-mesh/infer/1.1.0` by default, one long-lived stream; or
 * 1.0.0, one stream per request) on the driver's libp2p node, without the
 * scheduler, so every request goes to that peer and none is retried elsewhere
 * or served locally.
 */
import { createRemoteInvoker } from '../../src/offload/remote-invoker.js'
import type { RemoteInvokerInit } from '../../src/offload/remote-invoker.js'
import { DEADLINE_MS, MODEL_ID } from './constants.js'
import { closedLoop } from './stats.js'
import type { TensorData } from '../../src/model/types.js'
import type { AbortOptions, Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Sends one request to a peer; rejects with the peer's named error. `close()` ends its streams. */
export type SendTo = ((peerId: string) => Promise<void>) & { close(): void }

export function directSender (libp2p: Libp2p, input: TensorData, init: RemoteInvokerInit = {}, onBatch?: (batchSize: number) => void): SendTo {
  const invoke = createRemoteInvoker({
    connectionManager: {
      openStream: async (peer: PeerId | Multiaddr | Multiaddr[], protocol: string | string[], options?: AbortOptions) => await libp2p.dialProtocol(peer, protocol, options)
    }
  }, init)
  const send = async (peerId: string): Promise<void> => {
    const { batchSize } = await invoke(peerId, MODEL_ID, [input], { deadlineMs: DEADLINE_MS })
    onBatch?.(batchSize)
  }
  return Object.assign(send, { close: () => { invoke.close() } })
}

/** Closed loop of `count` requests to `peerId` with `concurrency` in flight; counts failures instead of throwing. */
export async function burst (send: SendTo, peerId: string, count: number, concurrency: number): Promise<{ ms: number, failed: number }> {
  let failed = 0
  const ms = await closedLoop(count, concurrency, async () => {
    try { await send(peerId) } catch { failed++ }
  })
  return { ms, failed }
}
