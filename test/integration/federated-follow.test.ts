/**
 * Following a run with the real CLI (issue #13): a run on a mesh where no
 * node holds data says it waits for clients and how to fix it (train status,
 * GET /federated/runs/:id, train's progress); Ctrl-C on `train` stops the run
 * mesh-wide (`--on-interrupt stop`, the default on a terminal) or leaves it
 * running and prints `edge-mesh train stop <id>` (the default otherwise);
 * a cancelled run exits 1 and never shows the untrained model as its result.
 */
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN_PATH } from '../../src/cli/cluster.js'
import { TestCluster, getJson, waitFor } from '../fixtures/index.js'
import type { ChildProcess } from 'node:child_process'
import type { NodeProcess } from '../fixtures/index.js'
import type { RunSummary } from '../../src/federated/mesh/service-types.js'

interface Cli { child: ChildProcess, out: () => string, exited: Promise<number | null> }

function cli (args: string[]): Cli {
  const child = spawn(process.execPath, [BIN_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d) => { out += d })
  child.stderr!.on('data', (d) => { out += d })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { resolve(code) }))
  return { child, out: () => out, exited }
}

async function finish (c: Cli): Promise<{ code: number | null, out: string }> {
  const timer = setTimeout(() => c.child.kill('SIGKILL'), 60_000)
  const code = await c.exited
  clearTimeout(timer)
  return { code, out: c.out() }
}

function runIdOf (text: string): string {
  const m = /run (\S+) coordinated by/.exec(text)
  if (m === null) throw new Error(`no run id in: ${text}`)
  return m[1]
}

describe('following a federated run from the CLI', () => {
  const cluster = new TestCluster()
  let seed: NodeProcess

  beforeAll(async () => {
    seed = await cluster.start('follow-seed', [], { command: 'seed' })
  })
  afterAll(async () => { await cluster.cleanup() })

  it('says what a run waits for, and Ctrl-C with --on-interrupt stop cancels it mesh-wide', async () => {
    const train = cli(['train', '--api', seed.apiUrl, '--rounds', '2', '--wait-for-clients', '2', '--on-interrupt', 'stop'])
    await waitFor('train to print the waiting state', () => train.out().includes('waiting-for-clients: 0 of 2 clients'), 60_000)
    expect(train.out()).toContain('start nodes with --data')
    const id = runIdOf(train.out())
    const run: RunSummary = await getJson(`${seed.apiUrl}/federated/runs/${id}`)
    expect(run.state).toBe('running')
    expect(run.waiting).toMatch(/^waiting-for-clients: 0 of 2 clients .*--data/)
    const status = await finish(cli(['train', 'status', id, '--api', seed.apiUrl]))
    expect(status.code).toBe(0)
    expect(status.out).toContain('waiting-for-clients: 0 of 2')
    expect(status.out).toContain('no global model: no round completed')
    const listed = await finish(cli(['train', 'status', '--api', seed.apiUrl]))
    expect(listed.out).toMatch(new RegExp(`${id}\\s+waiting-for-clients`))

    train.child.kill('SIGINT')
    const ended = await finish(train)
    expect(ended.out).toContain(`stopping run ${id} mesh-wide`)
    expect(ended.out).toContain(`run ${id} cancelled after 0/2 rounds`)
    expect(ended.out).toContain('no global model: no round completed')
    expect(ended.out).not.toMatch(/^global model/m)
    expect(ended.code).toBe(1)
    const after = await finish(cli(['train', 'status', id, '--api', seed.apiUrl]))
    expect(after.code).toBe(1)
    expect(after.out).toContain('cancelled')
    expect(after.out).not.toContain('waiting-for-clients')
  }, 120_000)

  it('Ctrl-C when not interactive leaves the run going and prints the command that stops it', async () => {
    const train = cli(['train', '--api', seed.apiUrl, '--rounds', '1', '--wait-for-clients', '2'])
    await waitFor('train to print the waiting state', () => train.out().includes('waiting-for-clients'), 60_000)
    const id = runIdOf(train.out())
    train.child.kill('SIGINT')
    const ended = await finish(train)
    expect(ended.code).toBe(130)
    expect(ended.out).toContain(`edge-mesh train stop ${id} --api ${seed.apiUrl}`)
    expect((await getJson(`${seed.apiUrl}/federated/runs/${id}`)).state).toBe('running')
    const stop = await finish(cli(['train', 'stop', id, '--api', seed.apiUrl]))
    expect(stop.code).toBe(0)
    await waitFor('the run to be cancelled', async () => (await getJson(`${seed.apiUrl}/federated/runs/${id}`)).state === 'cancelled', 30_000)
  }, 120_000)
})
