/**
 * The whole mesh's graph as one node sees it: its own connections plus the
 * neighbours every peer lists in its load report (version 3, at most 16 per
 * report), so any node draws every node's links, not only its own star. Pure:
 * unit-tested without a network.
 */
import type { NodeStatus } from './status.js'

export interface TopologyNode {
  id: string
  name: string
  role: string
}

/**
 * Who is connected to whom, as far as this node knows. Links are unordered
 * pairs of peer ids, each listed once: this node's own links first (this node
 * first in the pair), then those peers reported (the reporter first).
 */
export interface MeshTopology {
  nodes: TopologyNode[]
  links: Array<[string, string]>
  /**
   * Connections peers have beyond the neighbours their reports list (a report
   * lists at most 16): links the graph cannot show. 0 in a mesh of up to 17 nodes.
   */
  unlisted: number
}

/** One key per unordered pair. */
function pairKey (a: string, b: string): string {
  return a < b ? `${a} ${b}` : `${b} ${a}`
}

/**
 * Assemble the graph from `status`: this node and every peer it knows
 * (connected, or heard of through load gossip). A peer's links come from its
 * latest live report; a peer whose report is older than version 3 adds none.
 * A listed neighbour this node has no entry for is not drawn: every live node's
 * reports reach every node, so it has left (its entry expired) and the
 * reporter's next report drops it.
 */
export function buildTopology (status: NodeStatus): MeshTopology {
  const nodes = new Map<string, TopologyNode>([[status.peerId, { id: status.peerId, name: status.name, role: status.role }]])
  const links = new Map<string, [string, string]>()
  const link = (a: string, b: string): void => {
    if (a === b) return
    const key = pairKey(a, b)
    if (!links.has(key)) links.set(key, [a, b])
  }
  for (const peer of status.peers) {
    nodes.set(peer.peerId, { id: peer.peerId, name: peer.name ?? '', role: peer.role ?? 'unknown' })
    if (peer.connected) link(status.peerId, peer.peerId)
  }
  let unlisted = 0
  for (const peer of status.peers) {
    const neighbours = peer.load?.neighbours ?? []
    unlisted += Math.max(0, (peer.load?.connections ?? 0) - neighbours.length)
    for (const id of neighbours) if (nodes.has(id)) link(peer.peerId, id)
  }
  return { nodes: [...nodes.values()], links: [...links.values()], unlisted }
}

/** Links between two nodes other than `viewer`: what a star-shaped view from `viewer` lacks. */
export function linksBeyond (topology: MeshTopology, viewer: string): Array<[string, string]> {
  return topology.links.filter(([a, b]) => a !== viewer && b !== viewer)
}
