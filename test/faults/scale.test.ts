/**
 * A mesh of tens of nodes through one seed (mDNS off): every edge ends up
 * directly connected to every other edge, so offload and training traffic
 * goes peer to peer rather than through the seed.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { TestCluster, addressOn, loopbackAddress, status, waitFor } from '../fixtures/index.js'
import type { NodeProcess } from '../fixtures/index.js'

const EDGES = 12

describe(`a seed mesh of ${EDGES} edges`, () => {
  const cluster = new TestCluster()
  afterAll(async () => { await cluster.cleanup() })

  it('connects every edge directly to every other edge', async () => {
    const seed = await cluster.start('seed', [], { command: 'seed' })
    const boot = addressOn(seed, loopbackAddress(0))
    const edges: NodeProcess[] = []
    for (let i = 1; i <= EDGES; i++) edges.push(await cluster.start(`edge-${i}`, ['--bootstrap', boot]))
    const t0 = Date.now()
    for (const edge of edges) {
      await waitFor(`${edge.peerId} connected to all ${EDGES - 1} other edges`, async () => {
        const s = await status(edge)
        const direct = new Set(s.peers.filter(p => p.connected && p.role === 'edge').map(p => p.peerId))
        return edges.every(e => e === edge || direct.has(e.peerId))
      }, 180_000, 250)
    }
    const seedView = await status(seed)
    expect(seedView.peers.filter(p => p.role === 'edge' && p.load != null)).toHaveLength(EDGES)
    process.stdout.write(`scale: ${EDGES} edges fully meshed through one seed ${((Date.now() - t0) / 1000).toFixed(1)} s after the last one started (${EDGES * (EDGES - 1) / 2} direct edge-to-edge connections)\n`)
  })
})
