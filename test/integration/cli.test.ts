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

/** Run the CLI and expect it to fail with `code` and a one-line message containing `text`. */
async function expectFailure (args: string[], code: number, text: string): Promise<void> {
  const r = await run(args)
  expect(r.code).toBe(code)
  expectOneLineError(r, text)
}

/** Run `fn` with a TCP port on 127.0.0.1 held by another server. */
async function withBusyPort (fn: (port: number) => Promise<void>): Promise<void> {
  const blocker = createServer()
  await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
  try {
    await fn((blocker.address() as any).port)
  } finally {
    blocker.close()
  }
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
    await expectFailure(['frobnicate'], 2, 'unknown command')
    await expectFailure(['start', '--colour', 'red'], 2, '--colour')
  })

  it('rejects a bad multiaddr and a bad number', async () => {
    await expectFailure(['start', '--listen', 'tcp:1234', '--api-port', '0'], 2, 'not a valid multiaddr')
    await expectFailure(['start', '--api-port', 'lots'], 2, '--api-port')
  })

  it('reports a control API port in use', async () => {
    await withBusyPort(async (busy) => {
      const dir = await cluster.dir()
      await expectFailure(['start', '--no-mdns', '--api-port', String(busy), '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dir], 3, 'already in use')
    })
  })

  it('reports a libp2p listen port in use', async () => {
    await withBusyPort(async (busy) => {
      const dir = await cluster.dir()
      await expectFailure(['start', '--no-mdns', '--api-port', '0', '--listen', `/ip4/127.0.0.1/tcp/${busy}`, '--data-dir', dir], 3, 'in use')
    })
  })

  it('status explains when no node answers', async () => {
    await expectFailure(['status', '--api', 'http://127.0.0.1:9'], 4, 'cannot reach the control API')
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
