/**
 * A mesh of tens of nodes through one seed (mDNS off). A node dials only up to
 * its target of peers (`DEFAULT_TARGET_PEERS`, issue #12: an idle node's cost
 * must not grow with the mesh), yet:
 * - every edge holds at least that many direct connections;
 * - every edge hears every other edge's load through gossip;
 * - a request from any edge reaches the one edge that holds the model,
 *   directly connected or not: peers beyond the target are dialled on demand,
 *   so offload traffic still goes peer to peer rather than through the seed.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { DEFAULT_TARGET_PEERS } from '../../src/discovery/constants.js'
import { MNIST_MODEL_DIR, MNIST_MODEL_ID, TestCluster, addressOn, inferVia, loopbackAddress, mnistDigit, status, waitFor } from '../fixtures/index.js'
import type { NodeProcess } from '../fixtures/index.js'

const EDGES = 12

describe(`a seed mesh of ${EDGES} edges`, () => {
  const cluster = new TestCluster()
  afterAll(async () => { await cluster.cleanup() })

  it('keeps each edge at its peer target, spreads every load, and reaches unconnected holders on demand', async () => {
    const seed = await cluster.start('seed', [], { command: 'seed' })
    const boot = addressOn(seed, loopbackAddress(0))
    const edges: NodeProcess[] = []
    for (let i = 1; i <= EDGES; i++) {
      const model = i === EDGES ? ['--model', MNIST_MODEL_DIR] : []
      edges.push(await cluster.start(`edge-${i}`, ['--bootstrap', boot, ...model]))
    }
    const holder = edges[EDGES - 1]
    const t0 = Date.now()
    for (const edge of edges) {
      await waitFor(`${edge.peerId} at its peer target and hearing all ${EDGES - 1} other edges`, async () => {
        const s = await status(edge)
        const connected = s.peers.filter(p => p.connected).length
        const heard = new Set(s.peers.filter(p => p.role === 'edge' && p.load != null).map(p => p.peerId))
        return connected >= DEFAULT_TARGET_PEERS && edges.every(e => e === edge || heard.has(e.peerId))
      }, 180_000, 250)
    }
    const seedView = await status(seed)
    expect(seedView.peers.filter(p => p.role === 'edge' && p.load != null)).toHaveLength(EDGES)

    const direct = await Promise.all(edges.map(async e => (await status(e)).peers.filter(p => p.connected && p.role === 'edge').length))
    const notConnectedToHolder = (await Promise.all(edges.slice(0, -1).map(async e => (await status(e)).peers.some(p => p.peerId === holder.peerId && p.connected) ? 0 : 1))).reduce((a, b) => a + b, 0)
    const input = await mnistDigit(7)
    for (const edge of edges.slice(0, -1)) {
      const r = await inferVia(edge, { model: MNIST_MODEL_ID, inputs: [input], prefer: 'remote', deadlineMs: 60_000 })
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      expect(r.body.servedBy).toBe(holder.peerId)
    }
    process.stdout.write(`scale: ${EDGES} edges through one seed settled ${((Date.now() - t0) / 1000).toFixed(1)} s after the last one started; direct edge links per edge ${Math.min(...direct)}–${Math.max(...direct)} (a full mesh would be ${EDGES - 1}); ${notConnectedToHolder} edges reached the model holder without a prior connection\n`)
  })
})
