/**
 * Which connections the mesh dialer opens and which duplicates it closes, as
 * pure functions (issue #12: a bounded number of direct connections, no
 * duplicates).
 *
 * **Bounded dialling.** Peers heard of through gossip are dialled only while
 * this node has fewer than `targetPeers` distinct peers connected or being
 * dialled, and a dropped peer is redialled only then (bootstrap peers always); beyond
 * that, requests to other peers dial on demand (their addresses are in the
 * peer store) and libp2p's connection manager prunes above `maxConnections`.
 * gossipsub needs only its mesh degree (`PUBSUB_MESH`, 2 to 4) of connected
 * peers to deliver every report, so a bounded set of connections does not lose
 * load reports. Peers dialled by others still connect (inbound), so a node
 * may hold more than the target: the bound is on what it asks for.
 *
 * **Who dials.** When two nodes learn of each other at the same moment (mDNS,
 * or each other's load report), both would dial and two connections would
 * result. The node with the smaller peer id dials at once; the other waits
 * one maintenance pass and dials only if still unconnected (so a peer that
 * cannot be reached one way is still reached the other way).
 *
 * **Duplicates.** When two connections to one peer exist anyway, both ends
 * keep the same one: the one with the most open streams, then the one dialled
 * by the smaller peer id, then the oldest. The others are closed only when they
 * carry no stream, so no request, gossipsub stream or transfer is cut.
 */

/** What the dedup rule reads of a connection. */
export interface ConnectionInfo {
  id: string
  /** Open streams on it. */
  streams: number
  /** Peer id of the side that dialled it. */
  dialer: string
  /** When it opened, ms. */
  openedAt: number
}

/** True when this node should dial a peer it just learned of at once (else on the next maintenance pass). */
export function dialsFirst (selfId: string, remoteId: string): boolean {
  return selfId < remoteId
}

/**
 * True when another peer may be dialled because of gossip: fewer than
 * `targetPeers` peers are connected or being dialled. Dials under way count:
 * a node that joins through a seed hears of every peer within a second and
 * would otherwise start a dial to each before the first one completes.
 */
export function wantsMorePeers (connectedPeers: number, targetPeers: number, dialling = 0): boolean {
  return connectedPeers + dialling < targetPeers
}

function keepOrder (a: ConnectionInfo, b: ConnectionInfo): number {
  if (a.streams !== b.streams) return b.streams - a.streams
  if (a.dialer !== b.dialer) return a.dialer < b.dialer ? -1 : 1
  if (a.openedAt !== b.openedAt) return a.openedAt - b.openedAt
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/** The ids of the connections to one peer that should be closed: every one but the keeper that carries no stream. */
export function duplicatesToClose (connections: readonly ConnectionInfo[]): string[] {
  if (connections.length < 2) return []
  const [keep, ...rest] = [...connections].sort(keepOrder)
  return rest.filter(c => c.id !== keep.id && c.streams === 0).map(c => c.id)
}
