/**
 * The mesh dialer turns knowledge of a peer into a direct connection:
 * peers found by mDNS or bootstrap (`peer:discovery`), peers whose load
 * reports arrive through gossip (so nodes that only share a seed end up
 * connected to each other, and offload and training traffic goes peer to peer),
 * and peers remembered from before a restart. Dials are bounded by
 * `targetPeers` (gossip), `maxConnections` and a doubling per-peer backoff;
 * the addresses of peers it does not dial go to the peer store, so requests
 * reach them on demand. Duplicate connections to one peer are closed (see
 * `connection-policy.ts`).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { optionalComponent } from '../optional-component.js'
import { multiaddr } from '@multiformats/multiaddr'
import { DIALS_PER_MAINTENANCE, DUPLICATE_CHECK_DELAY_MS, MAX_BOOTSTRAP_REDIAL_MS, DIAL_TIMEOUT_MS, MAX_FAILURES_BEFORE_FORGET, MAX_REDIAL_MS, PERSIST_DEBOUNCE_MS } from './constants.js'
import { dialsFirst, duplicatesToClose, wantsMorePeers } from './connection-policy.js'
import { readKnownPeers, rememberPeer, writeKnownPeers } from './known-peers.js'
import { canDial, dialFailed } from './redial-backoff.js'
import type { DiscoveryComponents, MeshDialerInit } from './index.js'
import type { KnownPeer } from './known-peers.js'
import type { DialState } from './redial-backoff.js'
import type { PeerLoad } from '../gossip/types.js'
import type { Connection, IdentifyResult, Logger, PeerId, PeerInfo, Startable } from '@libp2p/interface'

export class MeshDialer implements Startable {
  private readonly log: Logger
  private known = new Map<string, KnownPeer>()
  private readonly dialState = new Map<string, DialState>()
  private readonly dialing = new Set<string>()
  private persistTimer?: ReturnType<typeof setTimeout>
  private maintenanceTimer?: ReturnType<typeof setInterval>
  private writing?: Promise<void>
  private writeAgain = false
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  private started = false
  private readonly counters = { dials: 0, dialFailures: 0, duplicatesClosed: 0 }
  /** Addresses last written to the peer store per peer heard of by gossip (to write only changes). */
  private readonly storedAddrs = new Map<string, string>()
  /** Bootstrap peers: never forgotten, redialled with a shorter backoff cap. */
  private readonly pinned = new Set<string>()

  constructor (private readonly components: DiscoveryComponents, private readonly init: Required<MeshDialerInit>) {
    this.log = components.logger.forComponent('edge-mesh:discovery')
  }

  readonly [Symbol.toStringTag] = 'edge-mesh:mesh-dialer'

  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    const { events } = this.components
    const loadView = optionalComponent<DiscoveryComponents['loadView']>(this.components, 'loadView')
    events.addEventListener('peer:discovery', this.onDiscovery)
    events.addEventListener('peer:connect', this.onConnect)
    events.addEventListener('peer:identify', this.onIdentify)
    events.addEventListener('peer:disconnect', this.onDisconnect)
    events.addEventListener('connection:open', this.onConnectionOpen)
    loadView?.addEventListener('load:report', this.onReport)
    for (const peer of await readKnownPeers(this.init.dataDir)) this.known.set(peer.peerId, peer)
    for (const addr of this.init.bootstrap) {
      const peerId = addr.split('/p2p/')[1]
      if (peerId != null) {
        this.pinned.add(peerId)
        this.known = rememberPeer(this.known, peerId, [addr.split('/p2p/')[0]], this.known.get(peerId)?.lastSeen ?? 0)
      }
    }
  }

  /** After libp2p has started: redial peers remembered from an earlier run, then keep the mesh connected. */
  afterStart (): void {
    this.maintain()
    this.maintenanceTimer = setInterval(this.maintain, this.init.redialMs)
    this.maintenanceTimer.unref?.()
  }

  /**
   * One maintenance pass: dial known peers that are not connected and whose
   * backoff has passed (a few per pass), and forget peers that failed too often.
   */
  private readonly maintain = (): void => {
    if (!this.started) return
    this.closeDuplicates()
    let dials = 0
    for (const peer of this.known.values()) {
      const state = this.dialState.get(peer.peerId)
      if ((state?.failures ?? 0) >= MAX_FAILURES_BEFORE_FORGET && !this.pinned.has(peer.peerId)) {
        this.known.delete(peer.peerId)
        this.dialState.delete(peer.peerId)
        this.schedulePersist()
        continue
      }
      if (dials >= DIALS_PER_MAINTENANCE || this.isConnected(peer.peerId) || !canDial(state, Date.now())) continue
      if (!this.pinned.has(peer.peerId) && !this.wantsMorePeers()) continue
      dials++
      void this.dial(peer.peerId, peer.addrs)
    }
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    const { events } = this.components
    const loadView = optionalComponent<DiscoveryComponents['loadView']>(this.components, 'loadView')
    events.removeEventListener('peer:discovery', this.onDiscovery)
    events.removeEventListener('peer:connect', this.onConnect)
    events.removeEventListener('peer:identify', this.onIdentify)
    events.removeEventListener('peer:disconnect', this.onDisconnect)
    events.removeEventListener('connection:open', this.onConnectionOpen)
    loadView?.removeEventListener('load:report', this.onReport)
    clearInterval(this.maintenanceTimer)
    this.maintenanceTimer = undefined
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    clearTimeout(this.persistTimer)
    await this.persist()
  }

  /** Dial counters for metrics. */
  stats (): { dials: number, dialFailures: number, duplicatesClosed: number, knownPeers: number } {
    return { ...this.counters, knownPeers: this.known.size }
  }

  /** Peers remembered for reconnection. */
  knownPeers (): KnownPeer[] {
    return [...this.known.values()]
  }

  /** Below `targetPeers`, counting peers connected and dials under way (see `connection-policy.ts`). */
  private wantsMorePeers (): boolean {
    const connected = new Set(this.components.connectionManager.getConnections().map(c => c.remotePeer.toString())).size
    return wantsMorePeers(connected, this.init.targetPeers, this.dialing.size)
  }

  /** Close duplicate connections that carry no stream, keeping the same one as the other end does. */
  private closeDuplicates (peerId?: string): void {
    const byPeer = new Map<string, Connection[]>()
    for (const c of this.components.connectionManager.getConnections()) {
      const id = c.remotePeer.toString()
      if (peerId != null && id !== peerId) continue
      byPeer.set(id, [...(byPeer.get(id) ?? []), c])
    }
    const self = this.components.peerId.toString()
    for (const [id, conns] of byPeer) {
      const open = conns.filter(c => c.status === 'open')
      const close = new Set(duplicatesToClose(open.map(c => ({
        id: c.id, streams: c.streams.length, dialer: c.direction === 'outbound' ? self : id, openedAt: c.timeline.open
      }))))
      for (const c of open.filter(c => close.has(c.id))) {
        this.counters.duplicatesClosed++
        this.log('closing duplicate connection %s to %s', c.id, id)
        void c.close().catch(() => { c.abort(new Error('duplicate connection')) })
      }
    }
  }

  private isConnected (peerId: string): boolean {
    return this.components.connectionManager.getConnections().some(c => c.remotePeer.toString() === peerId)
  }

  private async dial (peerId: string, addrs: string[]): Promise<void> {
    if (!this.started || peerId === this.components.peerId.toString()) return
    if (this.dialing.has(peerId) || this.isConnected(peerId)) return
    if (this.components.connectionManager.getConnections().length >= this.init.maxConnections) return
    if (!canDial(this.dialState.get(peerId), Date.now())) return
    this.dialing.add(peerId)
    this.counters.dials++
    try {
      const id = peerIdFromString(peerId)
      const multiaddrs = addrs.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } })
      if (multiaddrs.length > 0) await this.components.peerStore.merge(id, { multiaddrs })
      await this.components.connectionManager.openConnection(id, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      this.dialState.delete(peerId)
    } catch (err: any) {
      this.counters.dialFailures++
      const cap = this.pinned.has(peerId) ? MAX_BOOTSTRAP_REDIAL_MS : MAX_REDIAL_MS
      this.dialState.set(peerId, dialFailed(this.dialState.get(peerId), Date.now(), this.init.redialMs, cap))
      this.log('dial %s failed: %s', peerId, err?.message)
    } finally {
      this.dialing.delete(peerId)
    }
  }

  private schedulePersist (): void {
    if (this.persistTimer != null) return
    this.persistTimer = setTimeout(() => {
      this.persistTimer = undefined
      void this.persist()
    }, PERSIST_DEBOUNCE_MS)
    this.persistTimer.unref?.()
  }

  private async persist (): Promise<void> {
    try {
      await writeKnownPeers(this.init.dataDir, [...this.known.values()])
    } catch (err: any) {
      this.log.error('could not save known peers: %s', err?.message)
    }
  }

  /** Record a sighting; a new peer or new addresses are written at once, a mere `lastSeen` update later. */
  private remember (peerId: string, addrs: string[]): void {
    const before = this.known.get(peerId)
    this.known = rememberPeer(this.known, peerId, addrs, Date.now())
    const after = this.known.get(peerId)
    if (before == null || before.addrs.join() !== after?.addrs.join()) void this.persistSoon()
    else this.schedulePersist()
  }

  /** Write now, coalescing writes that are already under way. */
  private async persistSoon (): Promise<void> {
    if (this.writing != null) { this.writeAgain = true; return }
    this.writing = this.persist()
    await this.writing
    this.writing = undefined
    if (this.writeAgain) { this.writeAgain = false; await this.persistSoon() }
  }

  /**
   * A discovered peer (mDNS, bootstrap): a bootstrap peer is dialled at once;
   * another by the smaller peer id at once and by the other on its next
   * maintenance pass if still unconnected, both only below `targetPeers`.
   */
  private readonly onDiscovery = (evt: CustomEvent<PeerInfo>): void => {
    const peerId = evt.detail.id.toString()
    const addrs = evt.detail.multiaddrs.map(a => a.toString())
    const dialNow = this.pinned.has(peerId) || (dialsFirst(this.components.peerId.toString(), peerId) && this.wantsMorePeers())
    if (dialNow) void this.dial(peerId, addrs)
    else this.known = rememberPeer(this.known, peerId, addrs, this.known.get(peerId)?.lastSeen ?? Date.now())
  }

  /**
   * A load report from an unconnected peer: its addresses go to the peer store
   * (so requests can reach it on demand); it is dialled while this node has
   * fewer than `targetPeers` peers, by the smaller peer id first.
   */
  private readonly onReport = (evt: CustomEvent<PeerLoad>): void => {
    const { peerId, report } = evt.detail
    if (this.isConnected(peerId)) return
    const addrs = report.addrs.filter(a => this.init.dialFilter.allows(a))
    if (addrs.length === 0) return
    if (!this.wantsMorePeers()) { void this.storeAddrs(peerId, addrs); return }
    if (dialsFirst(this.components.peerId.toString(), peerId)) void this.dial(peerId, addrs)
    else this.known = rememberPeer(this.known, peerId, addrs, this.known.get(peerId)?.lastSeen ?? Date.now())
  }

  /** Write a gossiped peer's addresses to the peer store when they changed. */
  private async storeAddrs (peerId: string, addrs: string[]): Promise<void> {
    const key = addrs.join(' ')
    if (this.storedAddrs.get(peerId) === key) return
    this.storedAddrs.set(peerId, key)
    try {
      const multiaddrs = addrs.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } })
      await this.components.peerStore.merge(peerIdFromString(peerId), { multiaddrs })
    } catch (err: any) {
      this.log('could not store addresses of %s: %s', peerId, err?.message)
    }
  }

  /** A further connection to a peer: check for duplicates once its streams have settled. */
  private readonly onConnectionOpen = (evt: CustomEvent<Connection>): void => {
    const peerId = evt.detail.remotePeer.toString()
    if (this.components.connectionManager.getConnections(evt.detail.remotePeer).length < 2) return
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      this.closeDuplicates(peerId)
    }, DUPLICATE_CHECK_DELAY_MS)
    timer.unref?.()
    this.timers.add(timer)
  }

  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    const peerId = evt.detail.toString()
    this.dialState.delete(peerId)
    const conn: Connection | undefined = this.components.connectionManager.getConnections(evt.detail)[0]
    const remote = conn != null && conn.direction === 'outbound' ? [conn.remoteAddr.decapsulateCode(421).toString()] : []
    this.remember(peerId, remote)
  }

  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const addrs = evt.detail.listenAddrs.map(a => a.decapsulateCode(421).toString())
      .filter(a => !a.includes('/ip4/0.0.0.0/'))
    this.remember(evt.detail.peerId.toString(), addrs)
  }

  /**
   * A dropped known peer is redialled after a backoff, so the mesh heals by
   * itself: a bootstrap peer always, another while this node is below its target.
   */
  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peerId = evt.detail.toString()
    const peer = this.known.get(peerId)
    if (!this.started || peer == null) return
    if (!this.pinned.has(peerId) && !this.wantsMorePeers()) return
    const state = dialFailed(this.dialState.get(peerId), Date.now(), this.init.redialMs, MAX_REDIAL_MS)
    this.dialState.set(peerId, state)
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      void this.dial(peerId, this.known.get(peerId)?.addrs ?? [])
    }, Math.max(0, state.notBefore - Date.now()))
    timer.unref?.()
    this.timers.add(timer)
  }
}
