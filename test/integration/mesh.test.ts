/**
 * Real node processes over TCP + Noise on 127.0.0.x: discovery through a seed
 * with mDNS off, direct connections between edges, restart with the same
 * identity, load changes in gossip, and malformed load reports.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOAD_TOPIC } from '../../src/gossip/constants.js'
import { encodeLoadReport } from '../../src/gossip/codec.js'
import { TestCluster, addressOn, loopbackAddress, metric, status, waitFor } from '../fixtures/index.js'
import { createRoguePeer } from '../fixtures/rogue-peer.js'
import type { NodeProcess } from '../fixtures/index.js'

describe('a mesh joined through a seed (mDNS off)', () => {
  const cluster = new TestCluster()
  let seed: NodeProcess
  const edges: NodeProcess[] = []
  const edgeDirs: string[] = []

  beforeAll(async () => {
    seed = await cluster.start('seed', [], { command: 'seed' })
    const seedAddr = addressOn(seed, loopbackAddress(0))
    for (let i = 1; i <= 3; i++) {
      const dir = `${await cluster.dir()}/edge-${i}`
      edgeDirs.push(dir)
      edges.push(await cluster.start(`edge-${i}`, ['--bootstrap', seedAddr], { dataDir: dir }))
    }
  })
  afterAll(async () => { await cluster.cleanup() })

  it('every edge finds and directly connects to every other edge', async () => {
    for (const edge of edges) {
      const others = edges.filter(e => e !== edge).map(e => e.peerId)
      await waitFor(`${edge.peerId} connected to all edges`, async () => {
        const s = await status(edge)
        return others.every(id => s.peers.some(p => p.peerId === id && p.connected && p.load != null))
      })
    }
  })

  it('the seed lists every edge with its load and role', async () => {
    const s = await waitFor('seed sees all edges', async () => {
      const st = await status(seed)
      return edges.every(e => st.peers.some(p => p.peerId === e.peerId && p.load != null)) ? st : undefined
    })
    expect(s.role).toBe('seed')
    for (const edge of edges) {
      const entry = s.peers.find(p => p.peerId === edge.peerId)
      expect(entry?.role).toBe('edge')
      expect(entry?.addresses.length).toBeGreaterThan(0)
    }
  })

  it('status carries the documented fields', async () => {
    const s = await status(edges[0])
    expect(s).toMatchObject({ peerId: edges[0].peerId, role: 'edge', name: 'edge-1' })
    expect(typeof s.uptimeMs).toBe('number')
    expect(typeof s.backend).toBe('string')
    expect(s.addresses.some(a => a.includes(`/p2p/${edges[0].peerId}`))).toBe(true)
    for (const p of s.peers) {
      expect(p).toHaveProperty('peerId')
      expect(p).toHaveProperty('connected')
      expect(p).toHaveProperty('addresses')
      expect(p).toHaveProperty('load')
      expect(p).toHaveProperty('loadAgeMs')
    }
  })

  it('a killed node restarted with the same data dir keeps its peer id and is seen again', async () => {
    const victim = edges[2]
    await waitFor('the victim has written its known peers', async () => {
      const known = JSON.parse(await readFile(join(edgeDirs[2], 'peers.json'), 'utf8').catch(() => '[]')) as Array<{ peerId: string }>
      return [seed, edges[0], edges[1]].every(n => known.some(k => k.peerId === n.peerId))
    })
    await victim.kill()
    await waitFor('others notice the dead node', async () => {
      const s = await status(edges[0])
      return !s.peers.some(p => p.peerId === victim.peerId && p.connected)
    })
    const restarted = await cluster.start('edge-3', [], { dataDir: edgeDirs[2], host: loopbackAddress(3) })
    expect(restarted.peerId).toBe(victim.peerId)
    edges[2] = restarted
    for (const other of [edges[0], edges[1]]) {
      await waitFor('restarted node seen again', async () => {
        const s = await status(other)
        return s.peers.some(p => p.peerId === restarted.peerId && p.connected && p.load != null)
      })
    }
  })

  it('rejects malformed load reports and every node keeps running', async () => {
    const rogue = await createRoguePeer(loopbackAddress(9))
    try {
      await rogue.dial(addressOn(seed, loopbackAddress(0)))
      await waitFor('rogue sees the seed subscribed', () => rogue.node.services.pubsub.getSubscribers(LOAD_TOPIC).length > 0)
      const before = await metric(seed, 'edge_mesh_load_reports_rejected_total')
      const valid = encodeLoadReport({ seq: Date.now(), timestamp: Date.now(), cpu: 0, memFree: 0, inFlight: 0, queued: 0, capacity: 1, backend: 'cpu', models: [], training: false, canTrain: false, role: 'edge', name: 'rogue', addrs: [] })
      const garbage = [
        new Uint8Array([0xff, 0x00, 0x01]),
        new Uint8Array(5000).fill(7),
        valid.subarray(0, valid.length - 3),
        new Uint8Array([...valid, 1, 2, 3])
      ]
      for (const bytes of garbage) await rogue.node.services.pubsub.publish(LOAD_TOPIC, bytes).catch(() => {})
      await waitFor('seed counts the rejections', async () => await metric(seed, 'edge_mesh_load_reports_rejected_total') >= before + 1)
      for (const node of [seed, ...edges]) {
        const s = await status(node)
        expect(s.peers.some(p => p.name === 'rogue')).toBe(false)
        expect(node.child.exitCode).toBeNull()
      }
      await waitFor('edges still gossip', async () => {
        const s = await status(edges[0])
        return s.peers.filter(p => p.connected && p.load != null && (p.loadAgeMs ?? Infinity) < 2000).length >= 3
      })
    } finally {
      await rogue.stop()
    }
  })
})
