/** The CLI as a user meets it: help, bad flags, bad addresses, busy ports, no node. */
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { BIN_PATH } from '../../src/cli/cluster.js'
import { TestCluster } from '../fixtures/index.js'

async function run (args: string[], timeoutMs = 60_000): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => { stdout += d })
    child.stderr.on('data', d => { stderr += d })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timed out: ${args.join(' ')}`)) }, timeoutMs)
    child.on('exit', code => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

function expectOneLineError (r: { stderr: string }, text: string): void {
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^edge-mesh: /)
  expect(lines[0]).toContain(text)
  expect(r.stderr).not.toMatch(/\n\s+at /)
}

describe('edge-mesh CLI', () => {
  const cluster = new TestCluster()
  afterAll(async () => { await cluster.cleanup() })

  it('prints help for the tool and every command', async () => {
    const top = await run(['--help'])
    expect(top.code).toBe(0)
    for (const command of ['start', 'seed', 'status', 'demo']) {
      expect(top.stdout).toContain(command)
      const r = await run([command, '--help'])
      expect(r.code).toBe(0)
      expect(r.stdout).toContain(`Usage: edge-mesh ${command}`)
    }
  })

  it('rejects an unknown command and an unknown flag with a usage error', async () => {
    const unknown = await run(['frobnicate'])
    expect(unknown.code).toBe(2)
    expectOneLineError(unknown, 'unknown command')
    const flag = await run(['start', '--colour', 'red'])
    expect(flag.code).toBe(2)
    expectOneLineError(flag, '--colour')
  })

  it('rejects a bad multiaddr and a bad number', async () => {
    const addr = await run(['start', '--listen', 'tcp:1234', '--api-port', '0'])
    expect(addr.code).toBe(2)
    expectOneLineError(addr, 'not a valid multiaddr')
    const port = await run(['start', '--api-port', 'lots'])
    expect(port.code).toBe(2)
    expectOneLineError(port, '--api-port')
  })

  it('reports a control API port in use', async () => {
    const blocker = createServer()
    await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
    const busy = (blocker.address() as any).port
    try {
      const dir = await cluster.dir()
      const r = await run(['start', '--no-mdns', '--api-port', String(busy), '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dir])
      expect(r.code).toBe(3)
      expectOneLineError(r, 'already in use')
    } finally {
      blocker.close()
    }
  })

  it('reports a libp2p listen port in use', async () => {
    const blocker = createServer()
    await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
    const busy = (blocker.address() as any).port
    try {
      const dir = await cluster.dir()
      const r = await run(['start', '--no-mdns', '--api-port', '0', '--listen', `/ip4/127.0.0.1/tcp/${busy}`, '--data-dir', dir])
      expect(r.code).toBe(3)
      expectOneLineError(r, 'in use')
    } finally {
      blocker.close()
    }
  })

  it('status explains when no node answers', async () => {
    const r = await run(['status', '--api', 'http://127.0.0.1:9'])
    expect(r.code).toBe(4)
    expectOneLineError(r, 'cannot reach the control API')
  })

  it('status shows a running node as a table and as JSON', async () => {
    const node = await cluster.start('table-node')
    const table = await run(['status', '--api', node.apiUrl])
    expect(table.code).toBe(0)
    expect(table.stdout).toContain('table-node (edge)')
    expect(table.stdout).toContain(node.peerId)
    const json = await run(['status', '--api', node.apiUrl, '--json'])
    expect(JSON.parse(json.stdout).peerId).toBe(node.peerId)
  })
})
