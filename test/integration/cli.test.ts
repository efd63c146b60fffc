/** The CLI as a user meets it: help, bad flags, bad addresses, busy ports, no node. */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { BIN_PATH } from '../../src/cli/cluster.js'
import { TestCluster } from '../fixtures/index.js'

/** `node --import` this to have every libp2p or TF.js module the CLI resolves reported on stderr. */
const REPORT_HEAVY = new URL('../fixtures/report-heavy-modules.mjs', import.meta.url).href
const HEAVY = 'HEAVY-MODULE-LOADED'
const COMMANDS = ['start', 'seed', 'status', 'demo', 'infer', 'train', 'experiment', 'keygen']

async function run (args: string[], timeoutMs = 60_000, nodeArgs: string[] = []): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, BIN_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
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

  it('prints a command\'s help with `help <command>` too, for every command', async () => {
    for (const command of COMMANDS) {
      const r = await run(['help', command])
      expect(r.code).toBe(0)
      expect(r.stdout).toContain(`Usage: edge-mesh ${command}`)
    }
    await expectFailure(['help', 'strat'], 2, 'did you mean "start"?')
    const helpOfHelp = await run(['help', '--help'])
    expect(helpOfHelp.code).toBe(0)
    expect(helpOfHelp.stdout).toContain('Usage: edge-mesh <command>')
  })

  it('documents --mdns for seeds and EDGE_MESH_BACKEND where the backend matters', async () => {
    const seed = await run(['seed', '--help'])
    expect(seed.stdout).toMatch(/--mdns\b/)
    for (const args of [['--help'], ['start', '--help'], ['seed', '--help']]) expect((await run(args)).stdout).toContain('EDGE_MESH_BACKEND')
  })

  it('rejects an unknown command and an unknown flag with a usage error', async () => {
    await expectFailure(['frobnicate'], 2, 'unknown command')
    await expectFailure(['start', '--colour', 'red'], 2, '--colour')
  })

  it('suggests the closest flag or command', async () => {
    await expectFailure(['start', '--bootstap', 'x'], 2, 'did you mean --bootstrap?')
    await expectFailure(['start', '--no-mdsn'], 2, 'did you mean --no-mdns?')
    await expectFailure(['status', '--jsno'], 2, 'did you mean --json?')
    await expectFailure(['statsu'], 2, 'did you mean "status"?')
  })

  it('suggests http:// for an API address without a scheme', async () => {
    await expectFailure(['status', '--api', 'localhost:7373'], 2, 'did you mean http://localhost:7373?')
  })

  it('reports a missing --model folder as a configuration error', async () => {
    const dir = await cluster.dir()
    await expectFailure(['start', '--no-mdns', '--api-port', '0', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dir, '--model', join(dir, 'no-such-model')], 2, 'no such folder')
  })

  it('loads neither libp2p nor TF.js for commands that need no node', async () => {
    const control = await run(['start', '--no-mdns', '--api-port', 'lots'], 60_000, ['--import', REPORT_HEAVY])
    expect(control.code).toBe(2)
    const dir = await cluster.dir()
    const light = [['--version'], ['--help'], ...COMMANDS.map(c => ['help', c]), ['experiment', '--help'], ['keygen', '--out', join(dir, 'mesh.key')], ['status', '--api', 'http://127.0.0.1:9']]
    for (const args of light) {
      const r = await run(args, 60_000, ['--import', REPORT_HEAVY])
      expect(r.stderr, args.join(' ')).not.toContain(HEAVY)
      expect(r.code, args.join(' ')).toBe(args[0] === 'status' ? 4 : 0)
    }
    expect(existsSync(join(dir, 'mesh.key'))).toBe(true)
  })

  it('checks that the heavy-module report works', async () => {
    const r = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ['--import', REPORT_HEAVY, '--input-type=module', '-e', 'await import("libp2p")'], { stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', d => { stderr += d })
      child.on('exit', () => { resolve(stderr) })
    })
    expect(r).toContain(HEAVY)
  })

  it('infer lists the attempts a failed request reports', async () => {
    const api = createHttpServer((req, res) => {
      req.resume()
      res.writeHead(504, { 'content-type': 'application/json' })
      res.end(JSON.stringify({
        error: {
          name: 'DeadlineExceededError',
          message: 'deadline of 5 ms exceeded',
          attempts: [{ peerId: '12D3KooWSK7PeCQww1WimvSGFFkcwTMTVM5UPWRzMaVzyE2RjEHp', outcome: 'PeerBusyError', ms: 1.5 }, { peerId: 'self', outcome: 'DeadlineExceededError', ms: 3.5 }]
        }
      }))
    })
    await new Promise<void>(resolve => api.listen(0, '127.0.0.1', resolve))
    try {
      const r = await run(['infer', '--api', `http://127.0.0.1:${(api.address() as any).port}`, '--model', 'mnist-mlp', '--input', 'examples/inputs/mnist-digit-7.json'])
      expect(r.code).toBe(1)
      const lines = r.stderr.trim().split('\n')
      expect(lines[0]).toContain('DeadlineExceededError: deadline of 5 ms exceeded; 2 attempt(s):')
      expect(lines.slice(1)).toEqual(['  attempt 1: 12D3KooW…2RjEHp  PeerBusyError  1.5 ms', '  attempt 2: self  DeadlineExceededError  3.5 ms'])
      expect(r.stderr).not.toMatch(/\n\s+at /)
    } finally {
      api.close()
    }
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
