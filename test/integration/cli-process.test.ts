/**
 * The CLI with real node processes: models by id and name (start, status,
 * infer), a node refused by its bootstrap peer, and `demo` killed with -9.
 */
import { spawn } from 'node:child_process'
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN_PATH } from '../../src/cli/cluster.js'
import { processAlive } from '../../src/node/data-lock.js'
import { MNIST_MODEL_DIR, MNIST_MODEL_ID, TestCluster, getJson, inferVia, mnistDigit, status, waitFor } from '../fixtures/index.js'
import type { ChildProcess } from 'node:child_process'
import type { NodeProcess } from '../fixtures/index.js'

/** A CLI process whose output the test reads as it comes. */
interface Cli {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

function cli (args: string[]): Cli {
  const child = spawn(process.execPath, [BIN_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', d => { stdout += d })
  child.stderr?.on('data', d => { stderr += d })
  const exited = new Promise<number | null>(resolve => { child.once('exit', code => { resolve(code) }) })
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

async function runCli (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const c = cli(args)
  const code = await c.exited
  return { code, stdout: c.stdout(), stderr: c.stderr() }
}

/** A copy of the example model in `dir` with one weight changed: another content id, the folder's name. */
async function variantModel (dir: string, seed: number): Promise<string> {
  await mkdir(dir, { recursive: true })
  await copyFile(join(MNIST_MODEL_DIR, 'model.json'), join(dir, 'model.json'))
  const weights = await readFile(join(MNIST_MODEL_DIR, 'weights.bin'))
  weights.writeFloatLE(0.001 * seed, 0)
  await writeFile(join(dir, 'weights.bin'), weights)
  return dir
}

describe('edge-mesh CLI with running nodes', () => {
  const cluster = new TestCluster()
  const spawned: Cli[] = []
  let hub: NodeProcess
  let edge: NodeProcess
  let digitsId: string
  let twinId: string

  beforeAll(async () => {
    const models = await cluster.dir()
    const digits = await variantModel(join(models, 'digits'), 1)
    const twin = await variantModel(join(models, 'twin', 'mnist-mlp'), 2)
    hub = await cluster.start('hub', ['--model', MNIST_MODEL_DIR], { command: 'seed' })
    edge = await cluster.start('edge', ['--bootstrap', hub.addresses[0], '--model', digits, '--model', twin])
    digitsId = edge.ready.models.find((m: any) => m.name === 'digits').id
    twinId = edge.ready.models.find((m: any) => m.name === 'mnist-mlp').id
    // The hub has the edge's load report: it knows which ids the edge serves.
    await waitFor('the hub to hear of the edge\'s models', async () => (await status(hub)).peers.some(p => p.load?.models.length === 2))
  }, 120_000)

  afterAll(async () => {
    for (const c of spawned) c.child.kill('SIGKILL')
    await cluster.cleanup()
  })

  it('start names each model it serves with its content id, and a seed says how others join', () => {
    expect(hub.ready.models).toEqual([{ id: MNIST_MODEL_ID, name: 'mnist-mlp' }])
    expect(digitsId).toMatch(/^sha256-[0-9a-f]{64}$/)
    expect(twinId).not.toBe(MNIST_MODEL_ID)
    // Listening on 127.0.0.x only: the hint says so instead of pretending other devices can use it.
    expect(hub.ready.join).toEqual({ addresses: [hub.addresses[0]], loopbackOnly: true })
  })

  it('status lists the models held here and those peers serve, by id and name', async () => {
    const own = await runCli(['status', '--api', edge.apiUrl])
    expect(own.code).toBe(0)
    expect(own.stdout).toMatch(new RegExp(`digits\\s+${digitsId}`))
    const hubTable = await waitFor('the hub to learn the names of the edge\'s models', async () => {
      const r = await runCli(['status', '--api', hub.apiUrl])
      return new RegExp(`digits\\s+${digitsId}\\s+1 peer`).test(r.stdout) ? r.stdout : undefined
    })
    expect(hubTable).toMatch(new RegExp(`mnist-mlp\\s+${MNIST_MODEL_ID}`))
  })

  it('infer takes a model name unique in the mesh, and a fetched model keeps its name', async () => {
    const r = await runCli(['infer', '--api', hub.apiUrl, '--model', 'digits', '--prefer', 'local', '--input', 'examples/inputs/mnist-digit-7.json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`model "digits" is ${digitsId}`)
    const fetched = (await status(hub)).models.find(m => m.id === digitsId)
    expect(fetched).toMatchObject({ name: 'digits', origin: 'fetched' })
    // The HTTP API takes the name too.
    const viaApi = await inferVia(edge, { model: 'digits', inputs: [await mnistDigit(7)] })
    expect(viaApi.status).toBe(200)
    expect(viaApi.body.model).toBe(digitsId)
  })

  it('an ambiguous name lists the candidates\' ids; an unknown one is ModelNotFoundError', async () => {
    // The name is ambiguous at the edge only once the edge has heard the hub's model, with its name, from the hub's load report.
    await waitFor('the edge to learn the name of the hub\'s model', async () => {
      const r = await runCli(['status', '--api', edge.apiUrl])
      return new RegExp(`mnist-mlp\\s+${MNIST_MODEL_ID}\\s+1 peer`).test(r.stdout) ? true : undefined
    })
    const ambiguous = await runCli(['infer', '--api', edge.apiUrl, '--model', 'mnist-mlp', '--input', 'examples/inputs/mnist-digit-7.json'])
    expect(ambiguous.code).toBe(1)
    expect(ambiguous.stderr).toContain('AmbiguousModelNameError')
    expect(ambiguous.stderr).toContain(MNIST_MODEL_ID)
    expect(ambiguous.stderr).toContain(twinId)
    const viaApi = await inferVia(hub, { model: 'mnist-mlp', inputs: [await mnistDigit(7)] })
    expect(viaApi.status).toBe(409)
    expect(viaApi.body.error.name).toBe('AmbiguousModelNameError')
    const unknown = await runCli(['infer', '--api', edge.apiUrl, '--model', 'no-such-model', '--input', 'examples/inputs/mnist-digit-7.json'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('ModelNotFoundError')
  })

  it('a node whose bootstrap peer refuses it (another mesh key) warns once, naming the likely cause', async () => {
    const dir = await cluster.dir()
    expect((await runCli(['keygen', '--out', join(dir, 'other.key')])).code).toBe(0)
    const node = cli(['start', '--name', 'outsider', '--preset', 'local-test', '--api-port', '0', '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0',
      '--data-dir', join(dir, 'outsider'), '--mesh-key', join(dir, 'other.key'), '--bootstrap', hub.addresses[0], '--model', MNIST_MODEL_DIR])
    spawned.push(node)
    // Text output: the models with their ids at start.
    await waitFor('the outsider to start', () => node.stdout().includes('Press Ctrl-C'))
    expect(node.stdout()).toMatch(new RegExp(`mnist-mlp\\s+${MNIST_MODEL_ID}`))
    await waitFor('the warning', () => node.stderr().includes('warning'))
    const warnings = node.stderr().split('\n').filter(l => l.includes('warning'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('mesh-key mismatch')
    node.child.kill('SIGTERM')
    expect(await node.exited).toBe(0)
    // A node that joined (the edge, running for a while now) never warned.
    expect(edge.stderr.join('\n')).not.toContain('warning')
  })
})

describe('edge-mesh demo', () => {
  it('killed with -9, leaves no node process and no temporary folder behind', async () => {
    const demo = cli(['demo', '--nodes', '2', '--no-traffic'])
    try {
      await waitFor('the demo to start', () => demo.stdout().includes('Press Ctrl-C'), 120_000)
      const root = /data in ([^)]+)\)/.exec(demo.stdout())?.[1] ?? ''
      expect(existsSync(root)).toBe(true)
      const apis = [...demo.stdout().matchAll(/^node-\d+\s+\S+\s+(http:\/\/\S+)$/gm)].map(m => m[1])
      expect(apis).toHaveLength(2)
      const pids: number[] = await Promise.all(apis.map(async api => (await getJson(`${api}/status`)).pid))
      expect(pids.every(processAlive)).toBe(true)
      demo.child.kill('SIGKILL')
      await demo.exited
      await waitFor('the nodes to exit', () => !pids.some(processAlive), 30_000)
      await waitFor('the temporary folder to be removed', () => !existsSync(root), 30_000)
    } finally {
      demo.child.kill('SIGKILL')
    }
  }, 180_000)
})
