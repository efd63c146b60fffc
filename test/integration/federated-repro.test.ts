/**
 * Reproducible mesh experiments (issue #13): `edge-mesh experiment mnist
 * --mode mesh` with a fixed seed gives the same curve on every run, however
 * the clients are spread over nodes (new peer ids each time, a data-less
 * coordinator or not), and the same curve as `--mode simulate`, because
 * each client's training seed comes from its data shard. Traffic is counted
 * for every client, the wall time says what it covers, rounds.csv starts
 * with round 0 (the initial model). With `--secagg` (SecAgg+ over the mesh,
 * node 0 then only coordinates) the curve is the same within the fixed-point
 * error (4 clients of 2,000 digits: 4 * 2^-15 / 8,000 = 1.5e-8 per weight).
 */
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { BIN_PATH } from '../../src/cli/cluster.js'
import { TestCluster, waitFor } from '../fixtures/index.js'
import type { ChildProcess } from 'node:child_process'

const SETTINGS = ['--clients', '4', '--rounds', '2', '--epochs', '1', '--batch', '50', '--lr', '0.1', '--seed', '7', '--partition', 'iid']

async function experiment (args: string[], timeoutMs = 300_000, onStart?: (child: ChildProcess) => void): Promise<{ code: number | null, signal: string | null, out: string }> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN_PATH, 'experiment', 'mnist', ...SETTINGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    onStart?.(child)
    let out = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { out += d })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`experiment timed out: ${out}`)) }, timeoutMs)
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out }) })
  })
}

interface Row { round: number, accuracy: number, loss: number, participants: number, bytesUp: number }

async function rows (dir: string): Promise<Row[]> {
  const [header, ...lines] = (await readFile(join(dir, 'rounds.csv'), 'utf8')).trim().split('\n')
  const cols = header.split(',')
  return lines.map((l) => {
    const v = Object.fromEntries(l.split(',').map((x, i) => [cols[i], Number(x)]))
    return { round: v.round, accuracy: v.accuracy, loss: v.loss, participants: v.participants, bytesUp: v.bytesUp }
  })
}

function expectSameCurve (a: Row[], b: Row[]): void {
  expect(a.map((r) => r.round)).toEqual(b.map((r) => r.round))
  a.forEach((r, i) => {
    // float tolerance: updates are summed in arrival order; one digit of 2,000 held-out digits is 0.0005
    expect(Math.abs(r.accuracy - b[i].accuracy), `round ${r.round} accuracy ${r.accuracy} vs ${b[i].accuracy}`).toBeLessThanOrEqual(0.0005)
    expect(Math.abs(r.loss - b[i].loss), `round ${r.round} loss ${r.loss} vs ${b[i].loss}`).toBeLessThanOrEqual(1e-4)
  })
}

describe('mesh experiments reproduce, and agree with simulation', () => {
  const cluster = new TestCluster()
  afterAll(async () => { await cluster.cleanup() })

  it('gives the same per-round accuracies on 2 nodes, on 3 nodes with a data-less coordinator, with secure aggregation, and in simulation', async () => {
    const dirs = { mesh: await cluster.dir(), meshDataless: await cluster.dir(), meshSecure: await cluster.dir(), simulate: await cluster.dir() }
    const mesh = await experiment(['--mode', 'mesh', '--nodes', '2', '--out', dirs.mesh])
    expect(mesh.code, mesh.out).toBe(0)
    expect(mesh.out).toContain('4 of 4 clients per round: fraction 1 (default')
    expect(mesh.out).toMatch(/wall time: node start-up [\d.]+ s \(not included below\), training [\d.]+ s/)
    const dataless = await experiment(['--mode', 'mesh', '--nodes', '3', '--coordinator-only', '--out', dirs.meshDataless])
    expect(dataless.code, dataless.out).toBe(0)
    expect(dataless.out).toContain('(no data: coordinates only)')
    const secure = await experiment(['--mode', 'mesh', '--nodes', '3', '--secagg', '--secagg-threshold', '2', '--out', dirs.meshSecure])
    expect(secure.code, secure.out).toBe(0)
    expect(secure.out).toContain('(no data: coordinates only)')
    const simulated = await experiment(['--mode', 'simulate', '--concurrency', '2', '--out', dirs.simulate])
    expect(simulated.code, simulated.out).toBe(0)

    const [a, b, s, secured] = [await rows(dirs.mesh), await rows(dirs.meshDataless), await rows(dirs.simulate), await rows(dirs.meshSecure)]
    expect(a.map((r) => r.round)).toEqual([0, 1, 2])
    expect(a.slice(1).every((r) => r.participants === 4)).toBe(true)
    expectSameCurve(a, b)
    expectSameCurve(a, s)
    expectSameCurve(a, secured)
    expect(secured.slice(1).every((r) => r.participants === 4)).toBe(true)
    // every client's update is counted, the coordinator's own clients too (they move no bytes, counted at their encoded size)
    for (const [i, r] of a.entries()) if (r.round > 0) expect(r.bytesUp).toBeGreaterThanOrEqual(0.99 * s[i].bytesUp)
  }, 900_000)

  it('keeps the rounds that finished in rounds.csv when interrupted', async () => {
    const dir = await cluster.dir()
    const lines = async (): Promise<string[]> => (await readFile(join(dir, 'rounds.csv'), 'utf8').catch(() => '')).trim().split('\n')
    let child: ChildProcess | undefined
    const ended = experiment(['--mode', 'simulate', '--rounds', '50', '--out', dir], 300_000, (c) => { child = c })
    // header, round 0, round 1
    await waitFor('round 1 in rounds.csv', async () => (await lines()).length >= 3, 240_000, 200)
    child?.kill('SIGINT')
    const r = await ended
    expect(r.code === 0 && r.signal === null, 'the experiment stopped early').toBe(false)
    const kept = await lines()
    expect(kept.length).toBeGreaterThanOrEqual(3)
    expect(kept.length).toBeLessThan(52)
    expect(kept.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(kept.slice(1).map((_, i) => i))
  }, 300_000)
})
