import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkAnnounce, checkRunSpec, resolveBounds } from '../../../src/federated/mesh/bounds.js'
import { HeadFeatures, announceFields, featureBaseOf } from '../../../src/federated/mesh/head.js'
import { Participant } from '../../../src/federated/mesh/participant.js'
import { decodeMessage, encodeMessage } from '../../../src/federated/mesh/protocol/messages.js'
import { resumeRuns } from '../../../src/federated/mesh/resume-runs.js'
import { newRunId } from '../../../src/federated/mesh/run-id.js'
import { RunFiles, freshSummary, parseRunSpec } from '../../../src/federated/mesh/runs.js'
import type { RunRecordFile } from '../../../src/federated/mesh/runs.js'
import type { FeatureBase } from '../../../src/federated/mesh/head.js'
import type { AnnounceMessage } from '../../../src/federated/mesh/protocol/messages.js'
import type { Dataset, ModelInfo, WeightRecord } from '../../../src/model/types.js'

const log = Object.assign(() => {}, { enabled: false, trace: () => {}, error: () => {}, newScope: () => log }) as any
const BASE_ID = `sha256-${'a'.repeat(64)}`
const REF: FeatureBase = { base: 'nsfwjs:mobilenet_v2', layer: 'flatten_1', baseId: BASE_ID, examples: 32 }
const announce: AnnounceMessage = {
  type: 'announce', runId: 'run-a', round: 1, attempt: 1, version: 0, globalModelId: '', baseModelId: 'b', clientIndex: 0,
  epochs: 1, batchSize: 1, learningRate: 0.1, proximalMu: 0, seed: 0, deadlineMs: 60_000, ...announceFields(REF)
}

function dataset (count: number): Dataset {
  return { x: new Float32Array(count * 4), y: new Int32Array(count), featureShape: [4], numClasses: 2, count }
}

describe('head run specs', () => {
  const head = { classes: 10 }

  it('take a packaged base and a head, both or neither', () => {
    expect(parseRunSpec({ rounds: 2, base: 'nsfwjs:mobilenet_v2', head: { classes: 10, hidden: [32], examples: 32 } }))
      .toMatchObject({ base: 'nsfwjs:mobilenet_v2', head: { classes: 10, hidden: [32], examples: 32 } })
    const refused = [
      { base: './node_modules/nsfwjs/models', head },
      { base: 'nope:model', head },
      { base: 'human:movenet-lightning', head },
      { base: 'nsfwjs:mobilenet_v2' },
      { head },
      { base: 'nsfwjs:mobilenet_v2', head: { classes: 1 } },
      { base: 'nsfwjs:mobilenet_v2', head: { classes: 10, hidden: [0] } },
      { base: 'nsfwjs:mobilenet_v2', head: { classes: 10, layer: '../x y' } },
      { base: 'nsfwjs:mobilenet_v2', head, model: BASE_ID },
      { base: 'nsfwjs:mobilenet_v2', head, strategy: 'fltrust', rootData: 'mnist:0/80' }
    ]
    for (const spec of refused) expect(() => parseRunSpec({ rounds: 1, ...spec }), JSON.stringify(spec)).toThrow(expect.objectContaining({ name: 'InvalidConfigError' }))
  })

  it('ask no more features than the node allows, on the coordinator and on the participant', () => {
    const bounds = resolveBounds({ maxFeatureExamples: 100 })
    expect(checkRunSpec(bounds, { rounds: 1, head: { examples: 100, evalExamples: 100 } })).toBeUndefined()
    expect(checkRunSpec(bounds, { rounds: 1, head: { examples: 101 } })?.bound).toBe('feature_examples')
    expect(checkRunSpec(bounds, { rounds: 1, head: { evalExamples: 101 } })?.bound).toBe('feature_examples')
    expect(checkAnnounce(bounds, { epochs: 1, deadlineMs: 1000, featureExamples: 101 })?.bound).toBe('feature_examples')
    expect(checkAnnounce(bounds, { epochs: 1, deadlineMs: 1000 })).toBeUndefined()
  })
})

describe('ANNOUNCE of a head run', () => {
  it('carries the base by name and content id, all four fields or none', () => {
    expect(decodeMessage(encodeMessage(announce))).toEqual(announce)
    expect(featureBaseOf(announce)).toEqual(REF)
    const { featureBase, featureLayer, featureBaseId, featureExamples, ...whole } = announce
    expect(featureBaseOf(whole)).toBeUndefined()
    expect(() => featureBaseOf({ ...whole, featureBase })).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
    expect(() => decodeMessage(encodeMessage({ ...announce, featureBase: '../models/x' }))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
  })

  it('is refused beyond maxFeatureExamples; otherwise the participant declares at most the examples asked', async () => {
    const bases: FeatureBase[] = []
    const participant = new Participant({
      clients: [dataset(500)],
      runtime: { train: async () => { throw new Error('not reached') } },
      localLoad: { update: () => {} },
      ensureModel: async () => {},
      features: { ensureBase: async (ref) => { bases.push(ref as FeatureBase) }, of: async () => dataset(1) },
      pull: async (_c, _r, _v, o) => await new Promise<WeightRecord>((_resolve, reject) => { o.signal?.addEventListener('abort', () => { reject(o.signal?.reason) }) }),
      push: async () => {},
      bounds: resolveBounds({ maxFeatureExamples: 100 }),
      log
    })
    await expect(participant.accept({ ...announce, featureExamples: 101 }, 'coordinator', {})).rejects.toMatchObject({ name: 'LimitExceededError' })
    expect(await participant.accept(announce, 'coordinator', {})).toEqual({ type: 'accept', numExamples: 32 })
    expect(bases).toEqual([REF])
    participant.stop()
  })
})

describe('HeadFeatures', () => {
  it('refuses a base whose installed cut has another content id', async () => {
    const loaded = new Set<string>()
    const features = new HeadFeatures({
      has: (id) => loaded.has(id),
      get: () => undefined,
      predict: async () => [],
      createFeatureBase: async (name, layer) => {
        loaded.add(`sha256-${'b'.repeat(64)}`)
        return { id: `sha256-${'b'.repeat(64)}`, name: `${name}:${layer ?? ''}` } as unknown as ModelInfo
      }
    }, 2)
    await expect(features.ensureBase(REF)).rejects.toMatchObject({ name: 'ModelNotFoundError' })
    await expect(features.ensureBase({ ...REF, base: 'human:movenet-lightning' })).rejects.toMatchObject({ name: 'ModelNotFoundError' })
    await expect(features.ensureBase({ ...REF, base: 'nope:model' })).rejects.toMatchObject({ name: 'ModelNotFoundError' })
    loaded.add(BASE_ID)
    await expect(features.ensureBase(REF)).resolves.toBeUndefined()
  })
})

describe('resuming a head run', () => {
  it('creates the head again and cuts the base again from the installed package', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edge-mesh-head-'))
    try {
      const files = new RunFiles(dir)
      const mlp = { inputSize: 1280, hidden: [64], classes: 10, seed: 0, name: 'head' }
      const record: RunRecordFile = {
        version: 1, id: newRunId('me'), spec: parseRunSpec({ rounds: 2, base: REF.base, head: { classes: 10 } }), coordinator: 'me', startedAt: 1,
        baseModelId: `sha256-${'c'.repeat(64)}`, mlp, head: { ...REF, evalExamples: 200 }
      }
      await files.create(record)
      await files.saveSummary(freshSummary(record))
      const created: unknown[] = []
      const cut: unknown[] = []
      const launched: string[] = []
      await resumeRuns({
        files, selfId: 'me', log,
        models: { has: () => false, createMlp: async (spec: unknown) => { created.push(spec) } } as any,
        isOwn: () => false,
        ensureModel: async () => {},
        ensureFeatureBase: async (head) => { cut.push(head) },
        launch: (r) => { launched.push(r.id) },
        list: () => {}
      })
      expect(created).toEqual([mlp])
      expect(cut).toEqual([{ ...REF, evalExamples: 200 }])
      expect(launched).toEqual([record.id])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
