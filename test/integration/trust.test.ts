/**
 * Who may join: a private mesh (pnet key) and an allow-list in the
 * connection gater, with real node processes over TCP.
 */
import { spawnSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN_PATH } from '../../src/cli/cluster.js'
import { TestCluster, addressOn, loopbackAddress, metric, status, waitFor } from '../fixtures/index.js'
import type { NodeProcess } from '../fixtures/index.js'

function keygen (out: string): void {
  const r = spawnSync(process.execPath, [BIN_PATH, 'keygen', '--out', out], { encoding: 'utf8' })
  expect(r.status).toBe(0)
}

describe('a private mesh', () => {
  const cluster = new TestCluster()
  let a: NodeProcess
  let b: NodeProcess
  let keyA: string
  let keyB: string

  beforeAll(async () => {
    const dir = await cluster.dir()
    keyA = join(dir, 'a.key')
    keyB = join(dir, 'b.key')
    keygen(keyA)
    keygen(keyB)
    a = await cluster.start('member-1', ['--mesh-key', keyA])
    b = await cluster.start('member-2', ['--mesh-key', keyA, '--bootstrap', addressOn(a, loopbackAddress(0))])
  })
  afterAll(async () => { await cluster.cleanup() })

  it('refuses to overwrite a key without --force', () => {
    const r = spawnSync(process.execPath, [BIN_PATH, 'keygen', '--out', keyA], { encoding: 'utf8' })
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('already exists')
  })

  it('members with the same key connect', async () => {
    await waitFor('members connected', async () => (await status(a)).peers.some(p => p.peerId === b.peerId && p.connected && p.load != null))
  })

  it('a node with another key, or none, never connects', async () => {
    const target = addressOn(a, loopbackAddress(0))
    const wrongKey = await cluster.start('stranger-key', ['--mesh-key', keyB, '--bootstrap', target])
    const noKey = await cluster.start('stranger-open', ['--bootstrap', target])
    for (const stranger of [wrongKey, noKey]) {
      await waitFor('the stranger tried and failed', async () => await metric(stranger, 'edge_mesh_dial_failures_total') >= 1)
      expect((await status(stranger)).connections).toBe(0)
    }
    for (const member of [a, b]) {
      const s = await status(member)
      expect(s.peers.map(p => p.peerId)).not.toContain(wrongKey.peerId)
      expect(s.peers.map(p => p.peerId)).not.toContain(noKey.peerId)
    }
  })

  it('rejects a file that is not a mesh key', async () => {
    const bad = join(await cluster.dir(), 'bad.key')
    await writeFile(bad, 'hello')
    const r = spawnSync(process.execPath, [BIN_PATH, 'start', '--mesh-key', bad, '--api-port', '0', '--no-mdns'], { encoding: 'utf8' })
    expect(r.status).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain('is not a mesh key')
  })
})

describe('an allow-list', () => {
  const cluster = new TestCluster()
  afterAll(async () => { await cluster.cleanup() })

  it('admits listed peers and refuses others before any protocol runs', async () => {
    const friend = await cluster.start('friend')
    const list = join(await cluster.dir(), 'allowed.txt')
    await writeFile(list, `# peers allowed to connect\n${friend.peerId}\n`)
    const guarded = await cluster.start('guarded', ['--allow-peers', list, '--bootstrap', addressOn(friend, loopbackAddress(0))])
    await waitFor('friend admitted', async () => (await status(guarded)).peers.some(p => p.peerId === friend.peerId && p.connected))
    const outsider = await cluster.start('outsider', ['--bootstrap', addressOn(guarded, loopbackAddress(1))])
    await waitFor('outsider refused', async () => await metric(guarded, 'edge_mesh_connections_refused_total') >= 1)
    const s = await status(guarded)
    expect(s.peers.some(p => p.peerId === outsider.peerId && p.connected)).toBe(false)
  })
})
