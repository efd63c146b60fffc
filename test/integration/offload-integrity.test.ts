/**
 * Inference integrity against real node processes over TCP + Noise
 * (issue #10, points 5 and 6; issue #13 "train, then serve at once"):
 * - a peer that announces the real model and answers with wrong classes is
 *   caught by spot checks and banned, and only correct answers reach users;
 * - `--offload-to trusted` sends work to trusted peers only;
 * - a stranger cannot make a node load models beyond its memory budget, and
 *   the node does not announce the stranger's models as its own;
 * - a model that no load report announces yet is found on connected peers.
 */
import { spawn } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createModelRuntime, writeModelDir } from '../../src/model/index.js'
import { MNIST_MODEL_DIR, MNIST_MODEL_ID, TestCluster, addressOn, inferVia, loopbackAddress, metric, mnistDigit, status, waitFor } from '../fixtures/index.js'
import type { NodeProcess } from '../fixtures/index.js'
import type { ChildProcess } from 'node:child_process'

const LYING_PEER = fileURLToPath(new URL('../fixtures/lying-peer.js', import.meta.url))
const MODEL = ['--model', MNIST_MODEL_DIR]

/** Start test/fixtures/lying-peer.js and wait for its ready line. */
async function startLiar (options: Record<string, unknown>): Promise<{ child: ChildProcess, peerId: string, stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [LYING_PEER, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  const ready = await new Promise<{ peerId: string }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', line => {
      try { const event = JSON.parse(line); if (event.event === 'ready') resolve(event) } catch {}
    })
    void exited.then(() => { reject(new Error('the lying peer exited before it was ready')) })
  })
  return { child, peerId: ready.peerId, stop: async () => { child.kill('SIGKILL'); await exited } }
}

/** Wait until `node` has a live load report from every peer in `ids` that announces `modelId`. */
async function seesModelOn (node: NodeProcess, ids: string[], modelId = MNIST_MODEL_ID): Promise<void> {
  await waitFor('peers announcing the model', async () => {
    const s = await status(node)
    return ids.every(id => s.peers.some(p => p.peerId === id && p.connected && p.load?.models.includes(modelId) === true))
  })
}

const argmax = (data: number[]): number => data.indexOf(Math.max(...data))

describe('spot checks against a lying peer', () => {
  const cluster = new TestCluster()
  let unchecked: NodeProcess
  let liar: Awaited<ReturnType<typeof startLiar>>
  let boot: string

  beforeAll(async () => {
    unchecked = await cluster.start('unchecked', [...MODEL, '--spot-check', '0'])
    boot = addressOn(unchecked, loopbackAddress(0))
    liar = await startLiar({ model: MNIST_MODEL_DIR, bootstrap: [boot], host: loopbackAddress(5), dataDir: join(await cluster.dir(), 'liar') })
    await seesModelOn(unchecked, [liar.peerId])
  })
  afterAll(async () => {
    await liar?.stop()
    await cluster.cleanup()
  })

  it('reproduces the attack: without spot checks the liar\'s wrong classes reach the user', async () => {
    const digit = await mnistDigit(7)
    for (let i = 0; i < 10; i++) {
      const res = await inferVia(unchecked, { model: MNIST_MODEL_ID, inputs: [digit], prefer: 'remote', deadlineMs: 30_000 })
      expect(res.status).toBe(200)
      expect(res.body.servedBy).toBe(liar.peerId)
      expect(argmax(res.body.outputs[0].data)).not.toBe(7)
    }
  })

  it('with spot checks the liar is caught and banned, even when trusted, and every answer is correct', async () => {
    // Trusting only the liar makes it the one remote candidate, so the first answer is a lie.
    const checker = await cluster.start('spot-checker', [...MODEL, '--spot-check', '1', '--offload-to', 'trusted', '--trust', liar.peerId, '--bootstrap', boot])
    await seesModelOn(checker, [liar.peerId])
    const digit = await mnistDigit(7)
    const first = await inferVia(checker, { model: MNIST_MODEL_ID, inputs: [digit], prefer: 'remote', deadlineMs: 30_000 })
    expect(first.status).toBe(200)
    expect(first.body.spotCheck).toBe('mismatch')
    expect(argmax(first.body.outputs[0].data)).toBe(7)
    for (let i = 0; i < 10; i++) {
      const res = await inferVia(checker, { model: MNIST_MODEL_ID, inputs: [digit], deadlineMs: 30_000 })
      expect(res.status).toBe(200)
      expect(res.body.servedBy).not.toBe(liar.peerId)
      expect(argmax(res.body.outputs[0].data)).toBe(7)
    }
    const s = await status(checker)
    expect(s.spotChecks).toMatchObject({ mismatches: 1, bans: 1 })
    expect(await metric(checker, 'edge_mesh_infer_spot_check_bans_total')).toBe(1)
    expect(await metric(checker, 'edge_mesh_infer_spot_checks_total{outcome="mismatch"}')).toBe(1)
    await waitFor('the liar disconnected', async () => (await status(checker)).peers.find(p => p.peerId === liar.peerId)?.connected !== true)
  })

  it('--offload-to trusted sends work only to trusted peers', async () => {
    const trusting = await cluster.start('trusting', [...MODEL, '--spot-check', '0', '--offload-to', 'trusted', '--trust', unchecked.peerId, '--bootstrap', boot])
    await seesModelOn(trusting, [unchecked.peerId, liar.peerId])
    const digit = await mnistDigit(3)
    for (let i = 0; i < 10; i++) {
      const res = await inferVia(trusting, { model: MNIST_MODEL_ID, inputs: [digit], prefer: 'remote', deadlineMs: 30_000 })
      expect(res.status).toBe(200)
      expect(res.body.servedBy).toBe(unchecked.peerId)
      expect(argmax(res.body.outputs[0].data)).toBe(3)
    }
  })
})

describe('model memory budget against a stranger', () => {
  const cluster = new TestCluster()
  let victim: NodeProcess
  let stranger: NodeProcess
  const strangerModels: string[] = []

  beforeAll(async () => {
    // Eight distinct ~0.8 MB models the stranger announces, plus one larger than the victim's whole budget.
    const runtime = await createModelRuntime({ maxModels: 16 })
    const root = await cluster.dir()
    const dirs: string[] = []
    for (let seed = 1; seed <= 9; seed++) {
      const hidden = seed === 9 ? [1400] : [200, 200]
      const info = await runtime.createMlp({ inputSize: 784, hidden, classes: 10, seed, name: `stranger-${seed}` })
      const dir = join(root, `stranger-${seed}`)
      await mkdir(dir, { recursive: true })
      await writeModelDir(dir, runtime.exportArtifacts(info.id))
      dirs.push(dir)
      strangerModels.push(info.id)
    }
    runtime.unloadAll()
    victim = await cluster.start('budget-victim', [...MODEL, '--max-models', '3', '--model-memory', '3MiB'])
    stranger = await cluster.start('stranger', [...dirs.flatMap(d => ['--model', d]), '--max-models', '16', '--model-memory', '64MiB',
      '--bootstrap', addressOn(victim, loopbackAddress(0))])
    await seesModelOn(stranger, [victim.peerId])
    await seesModelOn(victim, [stranger.peerId], strangerModels[0])
  })
  afterAll(async () => { await cluster.cleanup() })

  it('loads a stranger\'s models only within the budget, unloads them LRU, does not announce them, and keeps serving its own', async () => {
    const input = { shape: [1, 784], dtype: 'float32', data: new Array(784).fill(0.5) }
    for (const id of strangerModels.slice(0, 8)) {
      const res = await inferVia(stranger, { model: id, inputs: [input], prefer: 'remote', deadlineMs: 60_000 })
      expect(res.status).toBe(200)
      expect(res.body.servedBy).toBe(victim.peerId)
      const budget = (await status(victim)).modelMemory!
      expect(budget.count).toBeLessThanOrEqual(3)
      expect(budget.bytes).toBeLessThanOrEqual(3 * 1024 * 1024)
    }
    const s = await status(victim)
    expect(s.modelMemory!.evictions).toBeGreaterThanOrEqual(6)
    expect(s.models.map(m => m.id)).toContain(MNIST_MODEL_ID)
    // The victim's load reports announce only its configured model.
    await waitFor('a fresh report from the victim', async () => {
      const seen = (await status(stranger)).peers.find(p => p.peerId === victim.peerId)?.load
      return seen != null && seen.models.length === 1 && seen.models[0] === MNIST_MODEL_ID
    })
    const own = await inferVia(victim, { model: MNIST_MODEL_ID, inputs: [await mnistDigit(7)], deadlineMs: 30_000 })
    expect(own.status).toBe(200)
    expect(argmax(own.body.outputs[0].data)).toBe(7)
  })

  it('refuses a model larger than the budget with ModelBudgetExceededError', async () => {
    const input = { shape: [1, 784], dtype: 'float32', data: new Array(784).fill(0.5) }
    const before = (await status(victim)).modelMemory!.refusals
    const res = await inferVia(stranger, { model: strangerModels[8], inputs: [input], prefer: 'remote', deadlineMs: 30_000 })
    const victimAttempt = (res.body.attemptLog ?? res.body.error?.attempts ?? []) as Array<{ peerId: string, outcome: string }>
    if (victimAttempt.length > 0) expect(victimAttempt.some(a => a.outcome === 'ModelBudgetExceededError')).toBe(true)
    expect((await status(victim)).modelMemory!.refusals).toBeGreaterThan(before)
    expect(await metric(victim, 'edge_mesh_model_budget_refusals_total')).toBeGreaterThan(before)
    expect((await status(victim)).modelMemory!.bytes).toBeLessThanOrEqual(3 * 1024 * 1024)
  })
})

describe('a model no load report announces yet (train, then serve at once)', () => {
  const cluster = new TestCluster()
  afterAll(async () => { await cluster.cleanup() })

  it('is fetched from a connected peer by content id instead of failing with ModelNotFoundError', async () => {
    // The only holder left is a node that fetched the model for itself: it serves it but does not announce it.
    const origin = await cluster.start('origin', MODEL)
    const holder = await cluster.start('holder', ['--bootstrap', addressOn(origin, loopbackAddress(0))])
    await seesModelOn(holder, [origin.peerId])
    const fetched = await inferVia(holder, { model: MNIST_MODEL_ID, inputs: [await mnistDigit(7)], prefer: 'local', deadlineMs: 60_000 })
    expect(fetched.status).toBe(200)
    await origin.stop()
    const asker = await cluster.start('asker', ['--bootstrap', addressOn(holder, loopbackAddress(1))])
    await waitFor('the holder connected', async () => (await status(asker)).peers.some(p => p.peerId === holder.peerId && p.connected && p.load != null))
    const s = await status(asker)
    expect(s.peers.some(p => p.load?.models.includes(MNIST_MODEL_ID) === true)).toBe(false)
    const res = await inferVia(asker, { model: MNIST_MODEL_ID, inputs: [await mnistDigit(3)], deadlineMs: 30_000 })
    expect(res.status).toBe(200)
    expect(argmax(res.body.outputs[0].data)).toBe(3)
  })
})
