/** The whole mesh's graph and the fleet's load, assembled from peers' load reports (pure). */
import { describe, expect, it } from 'vitest'
import { buildFleet } from '../../../src/api/fleet.js'
import { buildTopology, linksBeyond } from '../../../src/api/mesh-graph.js'
import { stubReport } from '../../fixtures/stub-api.js'
import type { NodeStatus, PeerStatus } from '../../../src/api/status.js'
import type { LoadReport } from '../../../src/gossip/types.js'

function peer (peerId: string, connected: boolean, report: Partial<LoadReport> | null): PeerStatus {
  const load = report == null ? null : stubReport(peerId, 1, report)
  return { peerId, name: report == null ? null : peerId, role: report == null ? null : 'edge', connected, addresses: [], load, loadAgeMs: load == null ? null : 100 }
}

/** Five nodes: s (the viewer) connected to a and b; a–c, b–c, c–d reported by their ends; c and d known only by gossip; d lists e, which left. */
function fiveNodeStatus (): NodeStatus {
  return {
    peerId: 's',
    name: 'seed',
    role: 'seed',
    load: stubReport('seed', 1, { traffic: { servedLocally: 1, servedRemotely: 1, servedForPeers: 1 } }),
    peers: [
      peer('a', true, { neighbours: ['c', 's'], connections: 2, traffic: { servedLocally: 10, servedRemotely: 5, servedForPeers: 0 } }),
      peer('b', true, { neighbours: ['c', 's'], connections: 2, traffic: { servedLocally: 0, servedRemotely: 0, servedForPeers: 3 } }),
      peer('c', false, { neighbours: ['a', 'b', 'd'], connections: 3 }),
      peer('d', false, { neighbours: ['c', 'e'], connections: 20, inFlight: 2, queued: 1, capacity: 4 })
    ]
  } as unknown as NodeStatus
}

describe('buildTopology', () => {
  it('links this node to each connected peer and lists peers without reports or neighbours without links', () => {
    const status = {
      peerId: 'self', name: 'me', role: 'seed',
      peers: [
        { peerId: 'a', name: 'a', role: 'edge', connected: true, load: null },
        { peerId: 'b', name: null, role: null, connected: false, load: null }
      ]
    } as unknown as NodeStatus
    expect(buildTopology(status)).toEqual({
      nodes: [{ id: 'self', name: 'me', role: 'seed' }, { id: 'a', name: 'a', role: 'edge' }, { id: 'b', name: '', role: 'unknown' }],
      links: [['self', 'a']],
      unlisted: 0
    })
  })

  it('adds every link peers report, each pair once, so the graph is not a star', () => {
    const topology = buildTopology(fiveNodeStatus())
    expect(topology.links).toEqual([['s', 'a'], ['s', 'b'], ['a', 'c'], ['b', 'c'], ['c', 'd']])
    expect(linksBeyond(topology, 's')).toEqual([['a', 'c'], ['b', 'c'], ['c', 'd']])
  })

  it('draws no node nor link for a neighbour it has no entry for (a node that left), and counts the links reports could not list', () => {
    const topology = buildTopology(fiveNodeStatus())
    expect(topology.nodes.map(n => n.id)).toEqual(['s', 'a', 'b', 'c', 'd'])
    expect(topology.unlisted).toBe(18)
  })

  it('draws no links from a version 2 report (no neighbours) and none to the reporter itself', () => {
    const status = { peerId: 's', name: '', role: 'edge', peers: [peer('a', false, { neighbours: ['a'], connections: 1 }), peer('b', false, {})] } as unknown as NodeStatus
    expect(buildTopology(status).links).toEqual([])
  })
})

describe('buildFleet', () => {
  it('has one row per node, this node first with its live counters, peers by name, and the totals', () => {
    const live = { servedLocally: 7, servedRemotely: 2, servedForPeers: 4, failed: 0, byPeer: {}, p50Ms: 1, p99Ms: 2, queueDepth: 0, inFlight: 0, capacity: 2 }
    const fleet = buildFleet(fiveNodeStatus(), live)
    expect(fleet.nodes.map(n => [n.peerId, n.self, n.connected])).toEqual([['s', true, false], ['a', false, true], ['b', false, true], ['c', false, false], ['d', false, false]])
    expect(fleet.nodes[0].traffic).toEqual({ servedLocally: 7, servedRemotely: 2, servedForPeers: 4 })
    expect(fleet.nodes[0].connections).toBe(2)
    expect(fleet.nodes[1].traffic).toEqual({ servedLocally: 10, servedRemotely: 5, servedForPeers: 0 })
    expect(fleet.nodes[3].traffic).toBeNull()
    expect(fleet.nodes[4]).toMatchObject({ connections: 20, load: { inFlight: 2, queued: 1, capacity: 4 }, reportAgeMs: 100 })
    expect(fleet.totals).toEqual({ nodes: 5, reporting: 5, inFlight: 2, queued: 1, capacity: 12, servedLocally: 17, servedRemotely: 7, servedForPeers: 7 })
  })

  it('uses this node\'s own report when it runs no offload service, and leaves unknown load empty', () => {
    const status = { ...fiveNodeStatus(), peers: [peer('x', true, null)] } as unknown as NodeStatus
    const fleet = buildFleet(status, null)
    expect(fleet.nodes[0].traffic).toEqual({ servedLocally: 1, servedRemotely: 1, servedForPeers: 1 })
    expect(fleet.nodes[1]).toMatchObject({ load: null, traffic: null, connections: null, role: 'unknown' })
    expect(fleet.totals).toMatchObject({ nodes: 2, reporting: 1 })
  })
})
