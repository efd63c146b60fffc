/**
 * A stranger trying to hold every connection slot of a node (issue #10
 * point 9: 127 of 128 slots kept a new honest node out), against a real node
 * process: two flooders, each a process with many peer ids dialling from its
 * own loopback address, take what the per-host cap and the reserve let them,
 * and an honest node that comes afterwards still joins.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { TestCluster, addressOn, loopbackAddress, metric, status, waitFor } from '../fixtures/index.js'
import type { ChildProcess } from 'node:child_process'

const FLOODER = fileURLToPath(new URL('../fixtures/conn-flood-peer.js', import.meta.url))

interface FloodReport { peers: string[], connected: number, failed: number }

/** Start a flooder; resolves once its dials settled, with its report and the process (which holds its connections until stdin ends). */
async function flooder (target: string, host: string, count: number): Promise<{ report: FloodReport, child: ChildProcess }> {
  const child = spawn(process.execPath, [FLOODER, JSON.stringify({ target, host, count })], { stdio: ['pipe', 'pipe', 'pipe'] })
  const stderr: string[] = []
  createInterface({ input: child.stderr! }).on('line', line => { if (stderr.length < 50) stderr.push(line) })
  const report = await new Promise<FloodReport>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', line => { try { resolve(JSON.parse(line)) } catch {} })
    child.once('exit', code => { reject(new Error(`flooder exited with ${String(code)}: ${stderr.join('\n')}`)) })
  })
  return { report, child }
}

describe('per-host connection limits', () => {
  const cluster = new TestCluster()
  const flooders: ChildProcess[] = []
  afterAll(async () => {
    for (const child of flooders) child.stdin?.end()
    await Promise.all(flooders.map(async c => await new Promise(resolve => { if (c.exitCode != null) resolve(null); else c.once('exit', resolve) })))
    await cluster.cleanup()
  })

  it('caps each host and keeps slots for a new honest node while two hosts flood', async () => {
    // 12 slots, at most 6 per host, the last 4 only for hosts holding none.
    const victim = await cluster.start('conn-victim', ['--max-connections', '12', '--max-connections-per-host', '6', '--reserved-connections', '4'])
    const target = addressOn(victim, loopbackAddress(0))

    const first = await flooder(target, '127.0.0.201', 10)
    flooders.push(first.child)
    expect(first.report.connected).toBe(6)
    expect(await metric(victim, 'edge_mesh_inbound_connections_refused_total{reason="per_host"}')).toBeGreaterThanOrEqual(4)

    // A second host gets in, but not into the reserve: it stops at 12 - 4 = 8 connections in all.
    const second = await flooder(target, '127.0.0.202', 10)
    flooders.push(second.child)
    expect(second.report.connected).toBe(2)
    expect(await metric(victim, 'edge_mesh_inbound_connections_refused_total{reason="reserve"}')).toBeGreaterThanOrEqual(8)

    // The honest node dials from 127.0.0.1, a host with no connection yet: it joins.
    const honest = await cluster.start('conn-honest', ['--bootstrap', target])
    await waitFor('the honest node joined the victim', async () => (await status(victim)).peers.some(p => p.peerId === honest.peerId && p.connected))
    const s = await status(victim)
    const strangers = new Set([...first.report.peers, ...second.report.peers])
    expect(s.peers.filter(p => p.connected && strangers.has(p.peerId)).length).toBe(8)
    expect(s.connections).toBeLessThanOrEqual(12)

    // A host's count falls when its connections close: the first host may come back.
    first.child.stdin?.end()
    await waitFor('the first flood left', async () => !(await status(victim)).peers.some(p => p.connected && first.report.peers.includes(p.peerId)))
    const back = await flooder(target, '127.0.0.201', 3)
    flooders.push(back.child)
    expect(back.report.connected).toBe(3)
    expect(victim.child.exitCode).toBeNull()
  })
})
