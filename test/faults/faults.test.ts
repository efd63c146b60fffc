/**
 * The multi-host fault suite: one network namespace per node on a bridge,
 * nftables for loss and partitions, real node processes over TCP + Noise.
 * Run with `npm run test:faults` (root). Prints a summary table at the end.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN_PATH, startNodeProcess } from '../../src/cli/cluster.js'
import { MNIST_MODEL_DIR, MNIST_MODEL_ID, TestCluster, inferVia, mnistDigit, metric, status, waitFor } from '../fixtures/index.js'
import { createTestNetwork, netnsUnavailable } from '../fixtures/netns.js'
import { addPacketLoss, heal, nftUnavailable } from '../fixtures/nft.js'
import type { NodeProcess } from '../fixtures/index.js'
import type { TestHost, TestNetwork } from '../fixtures/netns.js'

const unavailable = netnsUnavailable() ?? nftUnavailable()
if (unavailable != null) process.stderr.write(`skipping the fault suite: ${unavailable}\n`)

const TYPED_ERRORS = new Set(['DeadlineExceededError', 'AllPeersFailedError', 'PeerBusyError', 'AbortError'])

interface Row { scenario: string, figure: string, pass: boolean }
const summary: Row[] = []

function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN
}

describe.skipIf(unavailable != null)('faults across hosts', () => {
  const cluster = new TestCluster()
  let net: TestNetwork
  let keyFile: string
  let seedDir: string
  let seed: NodeProcess
  const edges: NodeProcess[] = []
  const edgeDirs: string[] = []

  const startOn = async (host: TestHost, name: string, args: string[], options: { command?: 'start' | 'seed', dataDir?: string } = {}): Promise<NodeProcess> => {
    const dataDir = options.dataDir ?? join(await cluster.dir(), name)
    const node = await startNodeProcess({
      prefix: host.prefix,
      command: options.command,
      args: ['--name', name, '--preset', 'local-test', '--listen', `/ip4/${host.ip}/tcp/4010`, '--api-host', host.ip, '--api-port', '7373', '--data-dir', dataDir, ...args]
    })
    cluster.nodes.push(node)
    return node
  }
  const seedAddr = (): string => `/ip4/${net.hosts[0].ip}/tcp/4010/p2p/${seed.peerId}`
  const member = (): string[] => ['--mesh-key', keyFile]

  beforeAll(async () => {
    net = createTestNetwork(8)
    const dir = await cluster.dir()
    keyFile = join(dir, 'mesh.key')
    expect(spawnSync(process.execPath, [BIN_PATH, 'keygen', '--out', keyFile]).status).toBe(0)
    seedDir = join(dir, 'seed')
    seed = await startOn(net.hosts[0], 'seed', member(), { command: 'seed', dataDir: seedDir })
    for (let i = 1; i <= 4; i++) {
      edgeDirs[i] = join(dir, `edge-${i}`)
      edges[i] = await startOn(net.hosts[i], `edge-${i}`, [...member(), '--model', MNIST_MODEL_DIR, '--bootstrap', seedAddr(), '--max-queue', '256'], { dataDir: edgeDirs[i] })
    }
    for (let i = 1; i <= 4; i++) {
      await waitFor(`edge-${i} sees the mesh`, async () => (await status(edges[i])).peers.filter(p => p.connected && p.load != null).length >= 4)
    }
  })

  afterAll(async () => {
    for (const h of net?.hosts ?? []) heal(h)
    await cluster.cleanup()
    net?.destroy()
    const width = Math.max(...summary.map(r => r.scenario.length))
    process.stdout.write('\nfault suite summary\n' + summary.map(r => `${r.pass ? 'PASS' : 'FAIL'}  ${r.scenario.padEnd(width)}  ${r.figure}`).join('\n') + '\n')
  })

  it('5: a restarted node keeps its peer id and is seen again by all', async () => {
    const victim = edges[3]
    await victim.stop()
    const t0 = Date.now()
    edges[3] = await startOn(net.hosts[3], 'edge-3', [...member(), '--model', MNIST_MODEL_DIR, '--bootstrap', seedAddr()], { dataDir: edgeDirs[3] })
    expect(edges[3].peerId).toBe(victim.peerId)
    for (const other of [seed, edges[1], edges[2], edges[4]]) {
      await waitFor('seen again', async () => (await status(other)).peers.some(p => p.peerId === victim.peerId && p.connected && p.load != null))
    }
    summary.push({ scenario: '5 node restarted', figure: `same peer id; seen again by all 4 others ${((Date.now() - t0) / 1000).toFixed(1)} s after restart (${Math.ceil((Date.now() - t0) / 250)} report intervals)`, pass: true })
  })

  it('6: a stranger with the wrong mesh key is never connected', async () => {
    const otherKey = join(await cluster.dir(), 'other.key')
    expect(spawnSync(process.execPath, [BIN_PATH, 'keygen', '--out', otherKey]).status).toBe(0)
    const stranger = await startOn(net.hosts[6], 'stranger', ['--mesh-key', otherKey, '--bootstrap', seedAddr()])
    await waitFor('the stranger tried', async () => await metric(stranger, 'edge_mesh_dial_failures_total') >= 2)
    const members = [seed, edges[1], edges[2], edges[3], edges[4]]
    for (const m of members) expect((await status(m)).peers.map(p => p.peerId)).not.toContain(stranger.peerId)
    expect((await status(stranger)).connections).toBe(0)
    const failures = await metric(stranger, 'edge_mesh_dial_failures_total')
    await stranger.kill()
    summary.push({ scenario: '6 stranger with wrong key', figure: `${failures} dial attempts failed, 0 connections, seen by 0 of 5 members`, pass: true })
  })

  it('1: a peer killed while 200 offloaded requests are in flight: all complete', async () => {
    const victim = await startOn(net.hosts[5], 'victim', [...member(), '--model', MNIST_MODEL_DIR, '--bootstrap', seedAddr(), '--simulate-slowdown', '20', '--capacity', '8', '--max-queue', '256'])
    await waitFor('victim known', async () => (await status(edges[1])).peers.some(p => p.peerId === victim.peerId && p.connected && p.load != null))
    const input = await mnistDigit(7)
    const requests = Array.from({ length: 200 }, async () => await inferVia(edges[1], { model: MNIST_MODEL_ID, inputs: [input], prefer: 'remote', deadlineMs: 60_000 }))
    await waitFor('victim busy', async () => { const l = (await status(victim)).load; return l != null && l.inFlight + l.queued > 0 }, 60_000, 20)
    await victim.kill()
    const results = await Promise.all(requests)
    const ok = results.filter(r => r.status === 200).length
    const retried = results.filter(r => r.body.attempts > 1).length
    summary.push({ scenario: '1 peer killed under load', figure: `${ok}/200 completed, ${retried} after a retry elsewhere`, pass: ok === 200 })
    expect(ok).toBe(200)
  })

  it('2: 20% packet loss on every link for 60 s: at least 99% of requests succeed, the rest fail typed', async () => {
    for (const h of net.hosts.slice(0, 5)) addPacketLoss(h, 20)
    const input = await mnistDigit(7)
    const latencies: number[] = []
    const failures: string[] = []
    const until = Date.now() + 60_000
    try {
      await Promise.all(Array.from({ length: 6 }, async (_, worker) => {
        for (let n = 0; Date.now() < until && n < 5000; n++) {
          const from = edges[1 + ((worker + n) % 4)]
          const t = Date.now()
          const r = await inferVia(from, { model: MNIST_MODEL_ID, inputs: [input], prefer: 'remote', deadlineMs: 10_000 })
          if (r.status === 200) latencies.push(Date.now() - t)
          else failures.push(r.body?.error?.name ?? `HTTP ${r.status}`)
        }
      }))
    } finally {
      for (const h of net.hosts.slice(0, 5)) heal(h)
    }
    const total = latencies.length + failures.length
    const rate = latencies.length / total
    const untyped = failures.filter(f => !TYPED_ERRORS.has(f))
    summary.push({
      scenario: '2 20% packet loss, 60 s',
      figure: `${latencies.length}/${total} ok (${(rate * 100).toFixed(2)}%), p50 ${percentile(latencies, 0.5)} ms, p99 ${percentile(latencies, 0.99)} ms, failures: ${[...new Set(failures)].join(', ') || 'none'}`,
      pass: rate >= 0.99 && untyped.length === 0
    })
    expect(total).toBeGreaterThan(100)
    expect(rate).toBeGreaterThanOrEqual(0.99)
    expect(untyped).toEqual([])
  })

  it('4: with the seed killed the LAN keeps discovering, gossiping and offloading; seed-only peers rejoin when it returns', async () => {
    await seed.kill()
    // A new LAN node with mDNS and no bootstrap list joins while the seed is down.
    const newcomer = await startOn(net.hosts[7], 'newcomer', member())
    for (const e of [edges[1], edges[2]]) {
      await waitFor('newcomer discovered by mDNS', async () => (await status(e)).peers.some(p => p.peerId === newcomer.peerId && p.connected && p.load != null))
    }
    const fresh = await waitFor('gossip still flows', async () => {
      const s = await status(edges[1])
      const live = s.peers.filter(p => p.connected && (p.loadAgeMs ?? Infinity) < 1000)
      return live.length >= 3 ? live.length : undefined
    })
    const offloaded = await inferVia(edges[1], { model: MNIST_MODEL_ID, inputs: [await mnistDigit(3)], prefer: 'remote', deadlineMs: 10_000 })
    expect(offloaded.status).toBe(200)
    expect(offloaded.body.servedBy).not.toBe(edges[1].peerId)
    // A seed-only peer (no mDNS) started while the seed is down cannot join yet...
    const seedOnly = await startOn(net.hosts[6], 'seed-only', [...member(), '--no-mdns', '--bootstrap', seedAddr()])
    await waitFor('seed-only has tried the seed', async () => await metric(seedOnly, 'edge_mesh_dial_failures_total') >= 1)
    expect((await status(seedOnly)).connections).toBe(0)
    // ...and joins the whole mesh once the seed is back at its address.
    const t0 = Date.now()
    seed = await startOn(net.hosts[0], 'seed', member(), { command: 'seed', dataDir: seedDir })
    await waitFor('seed-only peer rejoins', async () => {
      const s = await status(seedOnly)
      return [edges[1], edges[2], edges[4]].every(e => s.peers.some(p => p.peerId === e.peerId && p.connected))
    }, 120_000)
    summary.push({
      scenario: '4 seed killed and back',
      figure: `LAN: newcomer found by mDNS, ${fresh} peers gossiping, offload served by another peer; seed-only peer joined ${((Date.now() - t0) / 1000).toFixed(1)} s after the seed returned`,
      pass: true
    })
  })
})
