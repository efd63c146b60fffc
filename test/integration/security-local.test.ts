/**
 * A node's local state (issue #10, "Also found"), against real node
 * processes: one node per data directory (a second one exits with
 * DataDirLockedError; a crashed node's lock is taken over), the default data
 * directory lies outside the working tree, and names that peers gossip are
 * printed with their control characters escaped.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { BIN_PATH } from '../../src/cli/cluster.js'
import { TestCluster, addressOn, loopbackAddress, startNodeProcess, status, waitFor } from '../fixtures/index.js'

async function run (args: string[], env: Record<string, string> = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => { stdout += d })
    child.stderr.on('data', d => { stderr += d })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timed out: ${args.join(' ')}`)) }, 60_000)
    child.on('exit', code => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

describe('local state', () => {
  const cluster = new TestCluster()
  afterAll(async () => { await cluster.cleanup() })

  it('lets one node use a data dir: a second exits with DataDirLockedError (5); a crashed node\'s lock is taken over', async () => {
    const dataDir = join(await cluster.dir(), 'shared')
    const first = await cluster.start('lock-first', [], { dataDir })
    const second = await run(['start', '--no-mdns', '--api-port', '0', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dataDir])
    expect(second.code).toBe(5)
    expect(second.stderr.trim().split('\n')).toHaveLength(1)
    expect(second.stderr).toContain('DataDirLockedError')
    expect(second.stderr).toContain(String(first.child.pid))
    await first.kill()
    expect(existsSync(join(dataDir, 'node.lock'))).toBe(true)
    const restarted = await cluster.start('lock-again', [], { dataDir })
    expect(restarted.peerId).toBe(first.peerId)
    expect(await restarted.stop(60_000)).toBe(0)
    expect(existsSync(join(dataDir, 'node.lock'))).toBe(false)
  })

  it('keeps the peer key in the user\'s data dir, not under the working directory', async () => {
    const home = await cluster.dir()
    const name = `keyless-checkout-${process.pid}`
    const node = await startNodeProcess({
      args: ['--name', name, '--preset', 'local-test', '--api-port', '0', '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'],
      env: { HOME: home, XDG_DATA_HOME: join(home, 'xdg') }
    })
    try {
      expect(node.ready.dataDir).toBe(join(home, 'xdg', 'edge-mesh', name))
      expect(existsSync(join(home, 'xdg', 'edge-mesh', name, 'peer.key'))).toBe(true)
      expect(existsSync(join(process.cwd(), '.edge-mesh', name))).toBe(false)
    } finally {
      await node.stop()
    }
  })

  it('prints peer names with control characters escaped', async () => {
    const evilName = 'evil\u001b[2J\u001b[31m\u0007\u202ename'
    const evil = await cluster.start(evilName, [], { dataDir: join(await cluster.dir(), 'evil') })
    const viewer = await cluster.start('viewer', ['--bootstrap', addressOn(evil, loopbackAddress(0))])
    await waitFor('the viewer hears the evil name', async () => (await status(viewer)).peers.some(p => p.name === evilName))
    for (const args of [['status', '--api', viewer.apiUrl], ['status', '--api', viewer.apiUrl, '--json'], ['status', '--api', evil.apiUrl]]) {
      const r = await run(args)
      expect(r.code).toBe(0)
      expect(r.stdout).not.toMatch(/[\u001b\u0007\u202e]/)
      expect(r.stdout).toContain(args.includes('--json') ? 'evil\\u001b[2J' : 'evil\\x1b[2J\\x1b[31m\\x07\\u202ename')
    }
  })
})
