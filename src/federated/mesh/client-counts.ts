/**
 * What a coordinator knows of its trainable peers: how many virtual clients
 * each holds (and their example counts), learnt by HELLO on
 * `/edge-mesh/fedavg/1.0.0` from peers whose load reports say `canTrain`.
 * At most one HELLO per peer is in flight; a peer is forgotten when it
 * disconnects, so a restarted peer is asked again.
 */
import { exchange } from './protocol/wire.js'
import { DEFAULT_CONTROL_TIMEOUT_MS } from './protocol/constants.js'
import type { StreamOpener } from './protocol/wire.js'
import type { PeerLoad } from '../../gossip/types.js'
import type { Logger } from '@libp2p/interface'

export class ClientCounts {
  private readonly counts = new Map<string, number[]>()
  private readonly dataKeys = new Map<string, number[]>()
  private readonly inFlight = new Map<string, Promise<void>>()

  constructor (private readonly opener: StreamOpener, private readonly log: Logger) {}

  /** The client counts `peerId` answered, or undefined when it has not (yet). */
  get (peerId: string): number[] | undefined {
    return this.counts.get(peerId)
  }

  /** The data keys of `peerId`'s clients, when it sent them (HELLO_OK `keys`, matching `clients` in length). */
  keys (peerId: string): number[] | undefined {
    return this.dataKeys.get(peerId)
  }

  /** True when `peer` can train and has not been asked yet. */
  unknown (peer: PeerLoad): boolean {
    return peer.report.canTrain && !this.counts.has(peer.peerId)
  }

  /** Ask every trainable peer of `peers` not asked yet. */
  async refresh (peers: PeerLoad[], signal?: AbortSignal): Promise<void> {
    await Promise.all(peers.filter((p) => this.unknown(p)).map(async (p) => this.ask(p, signal)))
  }

  /** HELLO `peer`, or join the HELLO already in flight to it; failures are logged, not thrown. */
  async ask (peer: PeerLoad, signal?: AbortSignal): Promise<void> {
    let pending = this.inFlight.get(peer.peerId)
    if (pending === undefined) {
      pending = exchange(this.opener, peer.peerId, { type: 'hello' }, undefined, 'hello-ok', { timeoutMs: DEFAULT_CONTROL_TIMEOUT_MS, signal })
        .then(({ message }) => {
          this.counts.set(peer.peerId, message.clients)
          if (message.keys?.length === message.clients.length) this.dataKeys.set(peer.peerId, message.keys)
        })
        .catch((err) => {
          // A peer that does not trust this node as a coordinator holds no clients for it.
          if (err?.name === 'UntrustedCoordinatorError') this.counts.set(peer.peerId, [])
          this.log('HELLO to %s failed: %s', peer.peerId, err?.message)
        })
        .finally(() => { this.inFlight.delete(peer.peerId) })
      this.inFlight.set(peer.peerId, pending)
    }
    await pending
  }

  /** Forget a disconnected peer. */
  forget (peerId: string): void {
    this.counts.delete(peerId)
    this.dataKeys.delete(peerId)
  }
}
