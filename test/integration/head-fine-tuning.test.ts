/**
 * Fine-tuning a new head over the mesh with real processes, cheaply: the base
 * is `edge-mesh:mnist-mlp` (the example MLP shipped in the package) cut after
 * its second hidden layer (200 features). Each edge cuts it from its own
 * installed copy, computes the features of at most `head.examples` of its
 * digits locally and pushes only the head; the seed averages the head and
 * evaluates it on held-out features. The same path with MobileNetV2 is the
 * opt-in suite `npm run test:models`.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN_PATH } from '../../src/cli/cluster.js'
import { TestCluster, metric, status } from '../fixtures/index.js'
import { postRun, runEnd, startHeadMesh } from '../fixtures/head-run.js'
import type { HeadMesh } from '../fixtures/head-run.js'

const BASE = 'edge-mesh:mnist-mlp'
const RUN = {
  base: BASE, head: { classes: 10, hidden: [32], examples: 64, evalExamples: 100 },
  rounds: 2, epochs: 3, batchSize: 16, learningRate: 0.1, fraction: 1, minParticipants: 2, waitForClients: 2, roundDeadlineMs: 120_000, strategy: 'fedavg'
}
/** Floats of a 200-32-10 head: what travels per update instead of the 784-200-200-10 model. */
const HEAD_FLOATS = 200 * 32 + 32 + 32 * 10 + 10
/** The frozen base: the MLP's two hidden layers. */
const BASE_PARAMETERS = 784 * 200 + 200 + 200 * 200 + 200

describe('head fine-tuning over the mesh (small base)', () => {
  const cluster = new TestCluster()
  let mesh: HeadMesh

  beforeAll(async () => {
    mesh = await startHeadMesh(cluster, 2, (k) => `mnist:${k}/40`, ['--fed-max-feature-examples', '100'])
  })
  afterAll(async () => { await cluster.cleanup() })

  it('federates only the head: the head learns, updates are head-sized, every node cut the base from its own package', async () => {
    const started = await postRun(mesh.edges[0], RUN)
    expect(started.status).toBe(202)
    const run = await runEnd(mesh.seed, started.body.id, 240_000)
    expect(run.state).toBe('completed')
    expect(run.history.map((r) => r.participants)).toEqual([2, 2])
    expect(run.history[1].accuracy).toBeGreaterThan(0.5)
    for (const r of run.history) expect(r.bytesUp).toBeLessThan(2 * (HEAD_FLOATS * 4 + 4096))
    // Every node cut the base itself and ran it: the edges on their digits, the seed on its held-out ones.
    for (const node of [mesh.seed, ...mesh.edges]) {
      const base = (await status(node)).models.find((m) => m.name === `${BASE}:dense_2`)
      expect(base?.parameters).toBe(BASE_PARAMETERS)
      expect(base?.timing?.calls).toBeGreaterThan(0)
    }
  }, 300_000)

  it('runs from the CLI: edge-mesh train --base --head-classes', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      BIN_PATH, 'train', '--api', mesh.seed.apiUrl, '--base', BASE, '--head-classes', '10', '--head-hidden', '16',
      '--head-examples', '32', '--head-eval-examples', '50', '--rounds', '1', '--fraction', '1', '--min-participants', '2', '--lr', '0.1'
    ], { encoding: 'utf8', timeout: 180_000 })
    expect(stdout).toMatch(/round 1\/1 {2}participants 2 {2}failures 0/)
    expect(stdout).toMatch(/completed after 1\/1 rounds/)
  }, 200_000)

  it('refuses a base that is not a packaged model and features beyond the bound', async () => {
    const path = await postRun(mesh.seed, { ...RUN, base: './examples/models/mnist-mlp' })
    expect(path.status).toBe(400)
    expect(path.body.error.name).toBe('InvalidConfigError')
    const unknown = await postRun(mesh.seed, { ...RUN, base: 'nope:model' })
    expect(unknown.body.error.name).toBe('InvalidConfigError')
    const tooMany = await postRun(mesh.seed, { ...RUN, head: { ...RUN.head, examples: 101 } })
    expect(tooMany.status).toBe(422)
    expect(tooMany.body.error.name).toBe('LimitExceededError')
    expect(await metric(mesh.seed, 'edge_mesh_federated_refusals_total')).toBeGreaterThanOrEqual(1)
  })
})
