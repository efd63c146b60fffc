/**
 * The pure pieces of the federated trust model: who is trusted, the bounds on
 * what a peer may ask, run ids bound to their coordinator, and the participant
 * and grid decisions built on them (no network: stream pairs and fakes).
 */
import { describe, expect, it } from 'vitest'
import { checkAnnounce, checkCoordinatedRuns, checkParticipatingRuns, checkPushedExamples, checkRunSpec, resolveBounds } from '../../../src/federated/mesh/bounds.js'
import { parseByzantine } from '../../../src/federated/mesh/byzantine.js'
import { parseDatasets } from '../../../src/federated/mesh/data-spec.js'
import { createMeshGrid } from '../../../src/federated/mesh/mesh-grid.js'
import { Participant } from '../../../src/federated/mesh/participant.js'
import { newRunId, runIdBinding, runIdBindsTo } from '../../../src/federated/mesh/run-id.js'
import { bootstrapPeerIds, isTrusted, parseTrustList, trustOf, trustPolicy } from '../../../src/federated/mesh/trust.js'
import { randomPeerId } from '../offload/protocol-fixtures.js'
import { constant } from './helpers.js'
import type { AnnounceMessage } from '../../../src/federated/mesh/protocol/messages.js'
import type { Dataset, WeightRecord } from '../../../src/model/types.js'

const log = Object.assign(() => {}, { enabled: false, trace: () => {}, error: () => {}, newScope: () => log }) as any
const PEER_A = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const PEER_B = '12D3KooWPjceQrSwdWXPyLLeABRXmuqt69Rg3sBYbU1Nft9HyQ6X'

const announce: AnnounceMessage = {
  type: 'announce', runId: 'run-a', round: 1, attempt: 1, version: 0, globalModelId: '', baseModelId: 'b', clientIndex: 0,
  epochs: 1, batchSize: 1, learningRate: 0.1, proximalMu: 0, seed: 0, deadlineMs: 60_000
}

function dataset (count: number): Dataset {
  return { x: new Float32Array(count * 2), y: new Int32Array(count), featureShape: [2], numClasses: 2, count }
}

/** A participant whose pull never answers until its job is aborted: a job that holds its slot. */
function stalledParticipant (clients: Dataset[], bounds = resolveBounds()) {
  const refused: string[] = []
  const aborted: unknown[] = []
  const participant = new Participant({
    clients,
    runtime: { train: async () => { throw new Error('not reached') } },
    localLoad: { update: () => {} },
    ensureModel: async () => {},
    pull: async (_c, _r, _v, o) => await new Promise<WeightRecord>((_resolve, reject) => {
      o.signal?.addEventListener('abort', () => { aborted.push(o.signal?.reason); reject(o.signal?.reason) }, { once: true })
    }),
    push: async () => {},
    bounds,
    onRefused: (bound) => { refused.push(bound) },
    log
  })
  return { participant, refused, aborted }
}

describe('trust policy', () => {
  it('trusts itself, named peers and bootstrap peers pinned by /p2p, and mesh members only with a mesh key and --trust-mesh', () => {
    const policy = trustPolicy({ trust: [PEER_A], bootstrap: [`/ip4/127.0.0.1/tcp/4010/p2p/${PEER_B}`, '/ip4/127.0.0.1/tcp/4011'] })
    expect(trustOf(policy, 'me', 'me')).toBe('self')
    expect(trustOf(policy, 'me', PEER_A)).toBe('named')
    expect(isTrusted(policy, 'me', PEER_B)).toBe(true)
    expect(isTrusted(policy, 'me', 'stranger')).toBe(false)
    expect(isTrusted(trustPolicy({ trustMesh: true }), 'me', 'stranger')).toBe(false)
    expect(isTrusted(trustPolicy({ trustMesh: false, meshKey: true }), 'me', 'stranger')).toBe(false)
    expect(trustOf(trustPolicy({ trustMesh: true, meshKey: true }), 'me', 'stranger')).toBe('mesh-member')
  })

  it('reads trust files with comments and blank lines, refusing lines that are not peer ids', () => {
    expect(parseTrustList(`# seeds\n${PEER_A}  # laptop\n\n  ${PEER_B}\n`)).toEqual([PEER_A, PEER_B])
    expect(() => parseTrustList('not a peer id\n')).toThrow(expect.objectContaining({ name: 'InvalidConfigError' }))
    expect(bootstrapPeerIds([`/ip4/10.0.0.1/tcp/1/p2p/${PEER_A}`, '/dns4/seed.example/tcp/1'])).toEqual([PEER_A])
  })
})

describe('federated bounds', () => {
  const bounds = resolveBounds({ maxEpochs: 5, maxRounds: 10, maxDeadlineMs: 1000, maxCoordinatedRuns: 1, maxParticipatingRuns: 1, maxExamples: 100 })

  it('refuse the issue\'s 10,000 epochs, 7-day deadline and 100,000 rounds by the bound they break', () => {
    expect(checkAnnounce(resolveBounds(), { epochs: 10_000, deadlineMs: 1000 })?.bound).toBe('epochs')
    expect(checkAnnounce(resolveBounds(), { epochs: 1, deadlineMs: 7 * 24 * 3600 * 1000 })?.bound).toBe('deadline')
    expect(checkRunSpec(resolveBounds(), { rounds: 100_000 })?.bound).toBe('rounds')
    expect(checkAnnounce(bounds, { epochs: 5, deadlineMs: 1000 })).toBeUndefined()
    expect(checkRunSpec(bounds, { rounds: 10, epochs: 5, roundDeadlineMs: 1000 })).toBeUndefined()
    expect(checkRunSpec(bounds, { rounds: 10, roundDeadlineMs: 1001 })?.bound).toBe('deadline')
  })

  it('cap concurrent runs as coordinator and as participant (a run already joined does not count twice)', () => {
    expect(checkCoordinatedRuns(bounds, 0)).toBeUndefined()
    expect(checkCoordinatedRuns(bounds, 1)?.bound).toBe('coordinated_runs')
    expect(checkParticipatingRuns(bounds, new Set(['run-a']), 'run-a')).toBeUndefined()
    expect(checkParticipatingRuns(bounds, new Set(['run-a']), 'run-b')?.bound).toBe('participating_runs')
  })

  it('bind a PUSH\'s examples to what ACCEPT declared, and to the cap', () => {
    expect(checkPushedExamples(20, 20, 100)).toBeUndefined()
    expect(checkPushedExamples(20, 4_294_967_295, 100)?.bound).toBe('examples')
    expect(checkPushedExamples(undefined, 101, 100)?.bound).toBe('examples')
  })
})

describe('run ids bound to their coordinator', () => {
  it('embed a hash of the coordinator\'s peer id that only that peer matches', () => {
    const id = newRunId(PEER_A)
    expect(id).toMatch(/^[a-z0-9][a-z0-9-]{0,63}$/)
    expect(runIdBindsTo(id, PEER_A)).toBe(true)
    expect(runIdBindsTo(id, PEER_B)).toBe(false)
    expect(runIdBindsTo('run-lq2x-abcdef', PEER_A)).toBe(false)
  })

  it('match the example of docs/protocols.md', () => {
    expect(runIdBinding(PEER_A)).toBe('d636565ce590b41cbd1c')
    expect(runIdBindsTo('run-d636565ce590b41cbd1c-mx37yj7b-aef212', PEER_A)).toBe(true)
  })
})

describe('local datasets and the experiment-only byzantine hook', () => {
  it('name datasets with name=spec; a bare spec (even with = in an option) is "default"', () => {
    const sets = parseDatasets(['mnist:0/4:dirichlet=0.5', 'holdout=mnist:test', 'root=/data/root'])
    expect([...sets]).toEqual([['default', 'mnist:0/4:dirichlet=0.5'], ['holdout', 'mnist:test'], ['root', '/data/root']])
    expect(() => parseDatasets(['a=mnist:test', 'a=mnist:0/2'])).toThrow(/twice/)
  })

  it('parse --byzantine values', () => {
    expect(parseByzantine('scale:scale=-10')).toEqual({ name: 'scale', scale: -10 })
    expect(parseByzantine('nan')).toEqual({ name: 'nan' })
    expect(() => parseByzantine('telepathy')).toThrow(expect.objectContaining({ name: 'InvalidConfigError' }))
  })
})

describe('the participant under the bounds', () => {
  it('refuses an ANNOUNCE beyond its bounds with LimitExceededError and counts the bound', async () => {
    const { participant, refused } = stalledParticipant([dataset(20)])
    await expect(participant.accept({ ...announce, epochs: 10_000 }, PEER_A, {})).rejects.toMatchObject({ name: 'LimitExceededError' })
    await expect(participant.accept({ ...announce, deadlineMs: 7 * 24 * 3600 * 1000 }, PEER_A, {})).rejects.toMatchObject({ name: 'LimitExceededError' })
    expect(refused).toEqual(['epochs', 'deadline'])
    expect(participant.activeRuns().size).toBe(0)
  })

  it('trains for at most maxParticipatingRuns runs at once', async () => {
    const { participant, refused } = stalledParticipant([dataset(20), dataset(20)], resolveBounds({ maxParticipatingRuns: 1 }))
    await participant.accept(announce, PEER_A, {})
    await expect(participant.accept({ ...announce, runId: 'run-b', clientIndex: 1 }, PEER_B, {})).rejects.toMatchObject({ name: 'LimitExceededError' })
    expect(refused).toEqual(['participating_runs'])
    participant.stop()
  })

  it('declares at most maxExamples in ACCEPT', async () => {
    const { participant } = stalledParticipant([dataset(500)], resolveBounds({ maxExamples: 100 }))
    expect(await participant.accept(announce, PEER_A, {})).toEqual({ type: 'accept', numExamples: 100 })
    participant.stop()
  })

  it('stops a job when its coordinator disconnects or cancels, and only for that coordinator', async () => {
    const { participant, aborted } = stalledParticipant([dataset(20), dataset(20)])
    await participant.accept(announce, PEER_A, {})
    await participant.accept({ ...announce, runId: 'run-b', clientIndex: 1 }, PEER_B, {})
    expect(participant.cancel('run-b', PEER_A)).toBe(0)
    expect(participant.coordinatorGone(PEER_A)).toBe(1)
    expect(participant.activeRuns()).toEqual(new Set(['run-b']))
    expect(participant.cancel('run-b', PEER_B)).toBe(1)
    expect(participant.activeRuns().size).toBe(0)
    await new Promise((resolve) => setImmediate(resolve))
    expect(aborted.map((r: any) => r?.name)).toEqual(['RunCancelledError', 'RunCancelledError'])
  })
})

describe('the mesh grid and inflated example counts', () => {
  it('refuses a PUSH claiming more examples than its ACCEPT declared: InvalidUpdateError, the client fails', async () => {
    const peer = await randomPeerId()
    const refused: string[] = []
    const grid = createMeshGrid({
      runId: 'run-x', selfId: 'me', loadView: { peers: () => [] }, clientCounts: () => [20],
      announce: async () => ({ type: 'accept', numExamples: 20 }), deadlineMs: 60_000, onRefused: (r) => { refused.push(r) }
    })
    const training = grid.train(`${peer}#0`, { round: 1, modelVersion: 0, baseModelId: 'b', weights: constant(0), config: { epochs: 1, batchSize: 1, learningRate: 0.1, proximalMu: 0, seed: 0 } }, {})
    await new Promise(resolve => setImmediate(resolve))
    const push = { type: 'push', runId: 'run-x', round: 1, attempt: 1, version: 0, clientIndex: 0, numExamples: 4_294_967_295, loss: 0, accuracy: 0, trainMs: 1, weightBytes: 1 } as const
    expect(() => { grid.deliver(peer, push, constant(0), 10) }).toThrow(expect.objectContaining({ name: 'InvalidUpdateError' }))
    await expect(training).rejects.toMatchObject({ name: 'InvalidUpdateError' })
    expect(refused).toEqual(['examples'])
    expect([...grid.askedPeers()]).toEqual([peer])
  })
})
