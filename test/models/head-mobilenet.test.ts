/**
 * Opt-in (`npm run test:models`, not part of `npm test`: MobileNetV2 on wasm
 * is slow): federated fine-tuning of a new 10-class head on MobileNetV2's
 * frozen base over the mesh, with real processes. A seed coordinates two
 * edges; each holds MNIST digits (`--data mnist:<k>/40`), cuts MobileNetV2
 * after its 1280 pooled features from its own installed `nsfwjs` package,
 * computes the features of 32 of its digits (upscaled to 224x224 RGB)
 * locally, and trains and pushes only the 1280-64-10 head; the seed averages
 * the head and evaluates it on the features of 200 held-out digits.
 *
 * Prints one line per round (accuracy, wall time) and the load average, the
 * figures docs/models.md quotes.
 */
import { loadavg } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestCluster, status } from '../fixtures/index.js'
import { postRun, runEnd, startHeadMesh } from '../fixtures/head-run.js'
import type { HeadMesh } from '../fixtures/head-run.js'

const PARTICIPANTS = 2
const EXAMPLES = 32
const ROUNDS = 5
const RUN = {
  base: 'nsfwjs:mobilenet_v2', head: { classes: 10, examples: EXAMPLES, evalExamples: 200 },
  rounds: ROUNDS, epochs: 10, batchSize: 8, learningRate: 0.05, fraction: 1, minParticipants: PARTICIPANTS, waitForClients: PARTICIPANTS,
  roundDeadlineMs: 300_000, strategy: 'fedavg'
}

describe('head fine-tuning of MobileNetV2 over the mesh', () => {
  const cluster = new TestCluster()
  let mesh: HeadMesh

  beforeAll(async () => {
    mesh = await startHeadMesh(cluster, PARTICIPANTS, (k) => `mnist:${k}/40`)
  })
  afterAll(async () => { await cluster.cleanup() })

  it(`${PARTICIPANTS} participants x ${EXAMPLES} digits x ${ROUNDS} rounds: accuracy rises, only the head travels`, async () => {
    const load = loadavg()[0]
    const started = await postRun(mesh.edges[0], RUN)
    expect(started.status).toBe(202)
    const run = await runEnd(mesh.seed, started.body.id, 900_000)
    for (const r of run.history) {
      console.log(`round ${r.round}: accuracy ${r.accuracy.toFixed(3)}, loss ${r.loss.toFixed(3)}, ${r.participants} participants, ${(r.wallMs / 1000).toFixed(1)} s, ${r.bytesUp} bytes up, failures ${r.failures} ${r.failureReasons.join('; ')}`)
    }
    console.log(`load average ${load.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end`)
    if (run.state !== 'completed') console.log(run.error, [mesh.seed, ...mesh.edges].map((n) => n.stderr.slice(-30).join('\n')).join('\n----\n'))
    expect(run.state).toBe('completed')
    expect(run.history.map((r) => r.participants)).toEqual(Array(ROUNDS).fill(PARTICIPANTS))
    expect(run.history[ROUNDS - 1].accuracy).toBeGreaterThan(run.history[0].accuracy)
    expect(run.history[ROUNDS - 1].accuracy).toBeGreaterThan(0.2)
    // 1280-64-10: 82,570 floats per update, not MobileNetV2's 2.6 M.
    for (const r of run.history) expect(r.bytesUp).toBeLessThan(PARTICIPANTS * 400_000)
    for (const edge of mesh.edges) {
      const base = (await status(edge)).models.find((m) => m.name === 'nsfwjs:mobilenet_v2:flatten_1')
      expect(base?.timing?.calls).toBeGreaterThan(0)
    }
  }, 900_000)
})
