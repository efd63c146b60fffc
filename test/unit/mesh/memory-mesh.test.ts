/**
 * In-process meshes over `@libp2p/memory`: the capabilities end to end
 * (discovery, load gossip, offload, a federated round) without sockets or
 * child processes. The real-process tests in test/integration cover TCP + Noise.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { memoryMesh } from '../../fixtures/memory-mesh.js'
import { waitFor } from '../../fixtures/index.js'
import type { MemoryMesh } from '../../fixtures/memory-mesh.js'

const MLP = { inputSize: 4, hidden: [8], classes: 3, seed: 7 }

describe('memory-transport mesh', () => {
  let mesh: MemoryMesh | undefined
  afterEach(async () => { await mesh?.stop(); mesh = undefined })

  it('nodes that bootstrap from one node connect to each other', async () => {
    mesh = await memoryMesh(3)
    const [a, b, c] = mesh.nodes
    await waitFor('every node connected to the other two', () => mesh!.nodes.every(n => n.libp2p.getPeers().length === 2))
    expect(new Set(a.libp2p.getPeers().map(String))).toEqual(new Set([b.peerId, c.peerId]))
  })

  it('gossips load reports: every node sees the model a peer serves', async () => {
    mesh = await memoryMesh(3)
    const [a, b, c] = mesh.nodes
    const model = await a.services.models.createMlp(MLP)
    await waitFor('b and c see a announce the model', () => [b, c].every(n => n.services.loadView.get(a.peerId)?.report.models.includes(model.id)))
    const report = c.services.loadView.get(a.peerId)!.report
    expect(report.name).toBe('mem-0')
    expect(report.capacity).toBe(a.config.capacity)
  })

  it('offloads an inference to the peer that holds the model, from plain arrays', async () => {
    mesh = await memoryMesh(2)
    const [a, b] = mesh.nodes
    const model = await a.services.models.createMlp(MLP)
    await waitFor('b sees the model on a', () => b.services.loadView.get(a.peerId)?.report.models.includes(model.id))
    const completed = new Promise<any>(resolve => { b.services.offload.addEventListener('inference:completed', (evt) => { resolve(evt.detail) }, { once: true }) })
    const result = await b.infer(model.id, [[0.1, 0.2, 0.3, 0.4], [1, 0, 0, 1]], { prefer: 'remote', deadlineMs: 10_000 })
    expect(result.servedBy).toBe(a.peerId)
    expect(result.outputs[0].shape).toEqual([2, 3])
    const sums = [0, 1].map(row => Array.from(result.outputs[0].data.slice(row * 3, row * 3 + 3)).reduce((x, y) => x + y, 0))
    sums.forEach(sum => { expect(sum).toBeCloseTo(1, 5) })
    expect((await completed).modelId).toBe(model.id)
    expect(a.services.offload.stats().servedForPeers).toBe(1)
  })

  it('runs a federated round across memory nodes and reports it as events', async () => {
    mesh = await memoryMesh(3, (i) => i === 0 ? {} : { data: `mnist:${i - 1}/50` })
    const [coordinator] = mesh.nodes
    await waitFor('the coordinator sees both trainers', () => coordinator.services.loadView.peers().filter(p => p.report.canTrain).length === 2)
    const rounds: number[] = []
    coordinator.services.federated.addEventListener('round:aggregated', (evt) => { rounds.push(evt.detail.round.round) })
    const finished = new Promise<any>((resolve, reject) => {
      coordinator.services.federated.addEventListener('run:finished', (evt) => { resolve(evt.detail) })
      coordinator.services.federated.addEventListener('run:failed', (evt) => { reject(new Error(evt.detail.error?.message)) })
    })
    const { id } = await coordinator.startRun({ rounds: 2, strategy: 'fedavg', epochs: 1, batchSize: 20, learningRate: 0.1, fraction: 1, minParticipants: 2, waitForClients: 2, roundDeadlineMs: 60_000, evalData: 'mnist:test' })
    const summary = await finished
    expect(summary.id).toBe(id)
    expect(rounds).toEqual([1, 2])
    expect(summary.history.map((r: any) => r.participants)).toEqual([2, 2])
    expect(coordinator.services.models.has(summary.globalModelId)).toBe(true)
  })
})
