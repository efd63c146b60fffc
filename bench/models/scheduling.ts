/**
 * The scheduling benchmark of the offload issue rerun with a real model and no
 * emulated slowness (issue #14): two serving processes with the model, each
 * pinned to its own core (`taskset`), one of them sharing its core with a
 * CPU-burning process, so it runs at about half speed because it really gets
 * half a core. Beside it, the same with the slowness emulated instead
 * (`--simulate-slowdown`, no burner), as `bench:offload` emulates it. In both,
 * model-less requesters in this process (one per policy: random,
 * least-outstanding, edge-mesh p2c) send the same Poisson arrivals at
 * `loadFraction` of the pair's nominal capacity with `prefer: 'remote'`, in
 * rotating order; each round gives each policy's p99 and the ratios.
 */
import { startInProcessNode, waitForPeers } from '../offload/driver.js'
import { emptyTally, report, roundRatios, segment } from '../offload/scheduling.js'
import { closedLoop, summary } from '../offload/stats.js'
import { REAL_SCHEDULING, SCHEDULING_MODEL, WARMUP } from './constants.js'
import { pinnedTo } from './placement.js'
import type { InProcessNode } from '../offload/driver.js'
import type { Processes } from '../offload/processes.js'
import type { SchedulingResult, Tally } from '../offload/scheduling.js'
import type { TensorData } from '../../src/model/types.js'
import type { SchedulingPolicy } from '../../src/offload/index.js'

/** How the slow peer is slow: a CPU burner on its core, or the emulation. */
export type Slowness = 'cpu-starved' | 'emulated'

/** The offload phase's figures for the three policies (see `bench/offload/scheduling.ts`), and how the slow peer was slow. */
export interface RealSchedulingResult extends Pick<SchedulingResult, 'capacityRps' | 'offeredRps' | 'random' | 'leastOutstanding' | 'edgeMesh' | 'runs' | 'median'> {
  slowness: Slowness
  /** The model's compute time per request behind `capacityRps` (A's p50 in the burst runs), ms. */
  computeMs: number
  /** Capacity measured just before the rounds (closed loop, least-outstanding, see `calibrate`), req/s; `offeredRps` is `loadFraction` of it. */
  measuredRps: number
}

const POLICIES: SchedulingPolicy[] = ['random', 'least-outstanding', 'p2c']

async function startPeers (processes: Processes, slowness: Slowness): Promise<{ fast: string, slow: string, addresses: string[], peerIds: string[] }> {
  const common = { capacity: 1, maxQueue: REAL_SCHEDULING.maxQueue, model: SCHEDULING_MODEL, batching: false }
  const [fast, slow] = await Promise.all([
    processes.serving('real-fast', { ...common, prefix: pinnedTo(0) }),
    processes.serving('real-slow', { ...common, prefix: pinnedTo(1), ...(slowness === 'emulated' ? { slowdown: REAL_SCHEDULING.slowdown } : {}) })
  ])
  if (slowness === 'cpu-starved') processes.burner(pinnedTo(1))
  return { fast: fast.node.peerId, slow: slow.node.peerId, addresses: [fast.address, slow.address], peerIds: [fast.node.peerId, slow.node.peerId] }
}

/**
 * The pair's throughput now, req/s: `calibrationRequests` requests in a closed
 * loop, `calibrationConcurrency` in flight (enough to keep both peers busy),
 * with least-outstanding. On a shared machine the nominal capacity (from the
 * model's compute time) overstates what the peers can serve, and an offered
 * rate above their capacity would only measure a growing queue.
 */
async function calibrate (node: InProcessNode, modelId: string, inputs: TensorData[]): Promise<number> {
  const { calibrationRequests: n, calibrationConcurrency: c, deadlineMs } = REAL_SCHEDULING
  // First inferences compile TF.js kernels (seconds on wasm): both peers run a few before the clock starts.
  await closedLoop(4 * WARMUP, 2, async () => { await node.offload.infer(modelId, inputs, { prefer: 'remote', deadlineMs }) })
  const wallMs = await closedLoop(n, c, async () => { await node.offload.infer(modelId, inputs, { prefer: 'remote', deadlineMs }) })
  return Math.round(10 * n / (wallMs / 1000)) / 10
}

/** One variant: the peers, one requester per policy, warm-up, then `rounds` rounds of one segment per policy. */
export async function measureRealScheduling (processes: Processes, modelId: string, inputs: TensorData[], computeMs: number,
  slowness: Slowness, progress: (line: string) => void): Promise<RealSchedulingResult> {
  const settings = REAL_SCHEDULING
  const peers = await startPeers(processes, slowness)
  const requesters = new Map<SchedulingPolicy, InProcessNode>()
  try {
    await Promise.all(POLICIES.map(async policy => {
      const node = await startInProcessNode({ policy, peers: peers.addresses, hedging: false })
      requesters.set(policy, node)
      await waitForPeers(node, peers.peerIds, 60_000, modelId)
    }))
    const capacityRps = Math.round(10 * (1000 / computeMs) * (1 + 1 / settings.slowdown)) / 10
    const measuredRps = await calibrate(requesters.get('least-outstanding')!, modelId, inputs)
    const rate = Math.round(measuredRps * settings.loadFraction)
    for (const policy of POLICIES) {
      progress(`real scheduling (${slowness}): warm-up ${policy} at ${rate} req/s`)
      await segment(requesters.get(policy)!, inputs, rate, settings.warmupMs, settings.seed - 1, peers.slow, undefined, modelId, settings.deadlineMs)
    }
    const tallies = new Map<SchedulingPolicy, Tally>(POLICIES.map(p => [p, emptyTally()]))
    for (let round = 0; round < settings.rounds; round++) {
      const order = POLICIES.map((_, i) => POLICIES[(i + round) % POLICIES.length])
      for (const policy of order) {
        const tally = tallies.get(policy)!
        const before = tally.latencies.length
        await segment(requesters.get(policy)!, inputs, rate, settings.segmentMs, settings.seed + round, peers.slow, tally, modelId, settings.deadlineMs)
        tally.roundP99.push(summary(tally.latencies.slice(before)).p99)
        progress(`real scheduling (${slowness}): round ${round + 1}/${settings.rounds} ${policy}: p99 ${tally.roundP99[round]} ms, slow peer served ${tally.slow} of ${tally.ok} so far`)
      }
    }
    return {
      slowness,
      computeMs,
      capacityRps,
      measuredRps,
      offeredRps: rate,
      random: report(tallies.get('random')!),
      leastOutstanding: report(tallies.get('least-outstanding')!),
      edgeMesh: report(tallies.get('p2c')!),
      ...roundRatios(tallies, settings.rounds)
    }
  } finally {
    for (const node of requesters.values()) await node.stop()
    await processes.stopAll()
  }
}
