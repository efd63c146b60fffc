/**
 * One run of the real-model benchmark, on the same in-process node A (an
 * edge-mesh node inside the driver, holding the model; see
 * bench/offload/driver.ts). Every node first runs an untimed burst of the
 * same size (`WARM_BURST`), so that what is timed is the steady state of a
 * node that has served before, not V8 still optimising: a fresh node's first
 * burst ran 3-9 % slower and spent three times the CPU on V8's helper threads.
 * Then, in the order L P P L, so that a drift of the shared host's speed
 * weighs on both sides alike:
 *
 * 1. **alone** (L): a burst of `BURST` requests sent to A at once; A has no
 *    peer and computes all of them on its one wasm core. For a model that
 *    batches, the same on a second lone node whose batches are not bounded in
 *    time (after its own untimed burst), the sceptic's other baseline;
 * 2. **with one idle peer** (P): a serving process B (its own process, so its
 *    own core) holding the same model joins, serves an untimed burst of
 *    `prefer: remote` requests, then the same burst as in 1 goes to A
 *    (`prefer: auto`), twice: A's scheduler sends part of it to B;
 * 3. **latency**, between the two P bursts: `LATENCY_SAMPLES` sequential
 *    requests of each kind, local (`prefer: local`) and remote
 *    (`prefer: remote`, served by B), interleaved;
 * 4. B stops, A drops the connection, and the lone burst runs again (L).
 *
 * The speed-up is the fastest lone burst (either L, or the unbounded-batches
 * burst) over the faster P burst: each side at its best, the usual estimator
 * where interference from the host's other tenants only ever adds time. The
 * ratio of the means is reported beside it.
 *
 * Hedging is off: with one peer, a hedge of a remote request could only come
 * back to A, and in a burst a hedge would run the same request twice.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { readFile } from 'node:fs/promises'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { startInProcessNode, waitForPeers } from '../offload/driver.js'
import { mean, percentile, round2, round3 } from '../shared/stats.js'
import { BURST, CAPACITY, DEADLINE_MS, LATENCY_SAMPLES, MAX_QUEUE, WARM_BURST, WARMUP } from './constants.js'
import { benchInputs } from './inputs.js'
import { corePrefix, pinSelf, PEER_CORE, SELF_CORE } from './placement.js'
import { summariseTimeline } from './timeline.js'
import type { TimelineEntry, TimelineSummary } from './timeline.js'
import type { InProcessNode } from '../offload/driver.js'
import type { Placement } from './placement.js'
import type { Processes } from '../offload/processes.js'
import type { ModelInfo, ModelRuntime, TensorData } from '../../src/model/types.js'
import type { AttemptRecord, Preference } from '../../src/offload/types.js'

export interface BurstResult {
  /** First request sent to last answer, ms. */
  wallMs: number
  perSecond: number
  /** Requests served by A itself and by the peer. */
  servedBySelf: number
  servedByPeer: number
  failed: number
  /** Attempts by node (`self`, `peer`) and outcome (`ok` or an error name), hedges included. */
  attempts: Record<string, number>
  /** Where the time went (see `timeline.ts`), and the p99 delay of A's event loop during the burst. */
  timeline: TimelineSummary & { loopDelayP99Ms: number }
  /**
   * CPU time of A's process and of B's during the burst / its wall time: near 1 each means both
   * cores were busy (2 cores), and only less CPU per request can make the burst faster.
   */
  cpuShare: { self: number, peer: number }
}

export interface LatencySummary { p50: number, p90: number, n: number }

export interface RunResult {
  /** The two lone bursts (L), before B joins and after it left. */
  alone: BurstResult[]
  /** Wall time of the faster lone burst, ms. */
  aloneMs: number
  /**
   * The same burst on a second lone node whose batches are not bounded in time
   * (`maxBatchMs` unbounded: up to 16 rows), for a model that batches: the
   * sceptic's other baseline, since the default bound costs a lone node its
   * big batches. Absent for a model with a fixed batch size.
   */
  aloneUnboundedBatches?: BurstResult
  /** The two bursts with the idle peer (P). */
  withPeer: BurstResult[]
  /** Wall time of the faster burst with the peer, ms. */
  withPeerMs: number
  /** The faster lone baseline (`aloneMs` or the unbounded-batches burst) / `withPeerMs`: the speed-up over the node alone at its best setting. */
  speedup: number
  /** The same with the mean of each pair of bursts (the unbounded-batches burst still counted if faster). */
  speedupOfMeans: number
  /** Which lone baseline `speedup` is measured against. */
  baseline: 'alone' | 'aloneUnboundedBatches'
  latency: {
    local: LatencySummary
    remote: LatencySummary
    /** The model's own p50 inference time on A (server-reported compute of the local requests), ms. */
    computeP50: number
    /**
     * The peer's own p50 inference time for the remote requests (server-reported), ms: remote -
     * local is (remoteComputeP50 - computeP50), two processes computing at different speeds, plus
     * what the network path adds.
     */
    remoteComputeP50: number
    /** remote p50 - local p50, ms. */
    overheadP50: number
    /** overheadP50 / computeP50. */
    overheadFraction: number
    /** `prefer: remote` requests the client had to run locally (the peer in backoff); not in the samples. */
    remoteFallbacks: number
    /**
     * CPU time of A's process per request, ms (median): a local request's is the model's CPU cost; a
     * remote request's is what sending it costs A. `cpuShare` = local CPU / local wall time: well
     * below 1 means other processes held A's core (a shared machine), and every wall time is inflated.
     */
    cpuMsPerRequest: { local: number, remote: number, cpuShare: number }
  }
}

function summarise (samples: number[]): LatencySummary {
  return { p50: round2(percentile(samples, 0.5)), p90: round2(percentile(samples, 0.9)), n: samples.length }
}

interface Answer { ms: number, computeMs: number, queueMs: number, servedBy: string, attempts: AttemptRecord[] }

async function infer (a: InProcessNode, modelId: string, inputs: TensorData[], prefer: Preference): Promise<Answer> {
  const started = performance.now()
  const result = await a.offload.infer(modelId, inputs, { prefer, deadlineMs: DEADLINE_MS })
  const { computeMs, queueMs } = result.latencyMs
  return { ms: performance.now() - started, computeMs, queueMs, servedBy: result.servedBy, attempts: result.attemptLog }
}

/** The answer as a timeline entry: its answering attempt started `ms` of that attempt before the answer was seen. */
function timelineEntry (a: InProcessNode, answer: Answer, seenAt: number): TimelineEntry {
  const ok = answer.attempts.findLast(r => r.outcome === 'ok')
  return { remote: answer.servedBy !== a.peerId, sentAt: seenAt - (ok?.ms ?? answer.ms), seenAt, queueMs: answer.queueMs, computeMs: answer.computeMs }
}

function tallyAttempts (a: InProcessNode, answers: Answer[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const record of answers.flatMap(r => r.attempts)) {
    const key = `${record.peerId === a.peerId ? 'self' : 'peer'}:${record.outcome}`
    out[key] = (out[key] ?? 0) + 1
  }
  return out
}

/** CPU time of process `pid` so far (user + system, from /proc; Linux clock ticks of 10 ms), ms. */
async function processCpuMs (pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** CPU time of this process so far, ms. */
function ownCpuMs (): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

/** `BURST` requests sent to A at once with preference `prefer`; `peerPid` is B's process, when it serves. */
async function burst (a: InProcessNode, modelId: string, inputs: TensorData[], prefer: Preference, peerPid?: number): Promise<BurstResult> {
  const cpuBefore = { a: ownCpuMs(), b: peerPid == null ? 0 : await processCpuMs(peerPid) }
  const started = performance.now()
  const entries: TimelineEntry[] = []
  const lag = monitorEventLoopDelay({ resolution: 5 })
  lag.enable()
  const outcomes = await Promise.allSettled(Array.from({ length: BURST }, async () => {
    const answer = await infer(a, modelId, inputs, prefer)
    entries.push(timelineEntry(a, answer, performance.now() - started))
    return answer
  }))
  const wallMs = performance.now() - started
  lag.disable()
  const cpu = { a: ownCpuMs() - cpuBefore.a, b: peerPid == null ? 0 : await processCpuMs(peerPid) - cpuBefore.b }
  const answers = outcomes.flatMap(o => o.status === 'fulfilled' ? [o.value] : [])
  const servedBySelf = answers.filter(r => r.servedBy === a.peerId).length
  return {
    wallMs: round2(wallMs),
    perSecond: round2(answers.length / (wallMs / 1000)),
    servedBySelf,
    servedByPeer: answers.length - servedBySelf,
    failed: BURST - answers.length,
    attempts: tallyAttempts(a, answers),
    timeline: { ...summariseTimeline(entries), loopDelayP99Ms: round2(lag.percentile(99) / 1e6) },
    cpuShare: { self: round2(cpu.a / wallMs), peer: round2(cpu.b / wallMs) }
  }
}

async function latency (a: InProcessNode, peerId: string, modelId: string, inputs: TensorData[]): Promise<RunResult['latency']> {
  const samples: Record<'local' | 'remote', number[]> = { local: [], remote: [] }
  const compute: number[] = []
  const remoteCompute: number[] = []
  const cpu: Record<'local' | 'remote', number[]> = { local: [], remote: [] }
  let remoteFallbacks = 0
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const order: Array<'local' | 'remote'> = i % 2 === 0 ? ['local', 'remote'] : ['remote', 'local']
    for (const kind of order) {
      const cpuBefore = process.cpuUsage()
      const r = await infer(a, modelId, inputs, kind)
      const used = process.cpuUsage(cpuBefore)
      if (kind === 'remote' && r.servedBy !== peerId) {
        remoteFallbacks++
        if (remoteFallbacks > LATENCY_SAMPLES) throw new Error(`remote requests keep falling back to this node: ${JSON.stringify(r.attempts)}`)
        continue
      }
      samples[kind].push(r.ms)
      cpu[kind].push((used.user + used.system) / 1000)
      if (kind === 'local') compute.push(r.computeMs)
      else remoteCompute.push(r.computeMs)
    }
  }
  const local = summarise(samples.local)
  const remote = summarise(samples.remote)
  const computeP50 = round2(percentile(compute, 0.5))
  const overheadP50 = round2(remote.p50 - local.p50)
  const cpuMsPerRequest = {
    local: round2(percentile(cpu.local, 0.5)),
    remote: round2(percentile(cpu.remote, 0.5)),
    cpuShare: round3(percentile(cpu.local, 0.5) / local.p50)
  }
  return { local, remote, computeP50, remoteComputeP50: round2(percentile(remoteCompute, 0.5)), overheadP50, overheadFraction: round3(overheadP50 / computeP50), remoteFallbacks, cpuMsPerRequest }
}

/** The lone burst on a second node whose batches are bounded only by `maxBatchSize` (16 rows), stopped after it. */
async function unboundedBatches (name: string, progress: (line: string) => void): Promise<BurstResult> {
  const node = await startInProcessNode({ models: [name], hedging: false, capacity: CAPACITY, maxQueue: MAX_QUEUE, peers: [], maxBatchMs: Number.MAX_SAFE_INTEGER })
  try {
    const model = (node.libp2p.services as unknown as { models: ModelRuntime }).models.list()[0]
    const inputs = benchInputs(model)
    await warm(node, model.id, inputs, 'local')
    progress(`burst of ${BURST} on a lone node with unbounded batches`)
    const result = await burst(node, model.id, inputs, 'local')
    progress(`alone, unbounded batches: ${result.wallMs} ms`)
    return result
  } finally {
    await node.stop()
  }
}

/**
 * One run with the packaged model `name`, every node warmed first: A alone,
 * A with the idle peer B twice (latency between), A alone again after B
 * stopped; every node is stopped at the end. `placement` pins A (this
 * process) and B to a core each, or leaves them unpinned (see `placement.ts`).
 */
export async function runOnce (processes: Processes, name: string, placement: Placement, progress: (line: string) => void): Promise<RunResult & { model: ModelInfo }> {
  const unpin = pinSelf(placement, SELF_CORE)
  try {
    return await measure(processes, name, placement, progress)
  } finally {
    unpin()
  }
}

/** `WARMUP` sequential requests (TF.js compiles its kernels), then an untimed burst of `WARM_BURST` (V8 optimises the hot code). */
async function warm (a: InProcessNode, modelId: string, inputs: TensorData[], prefer: Preference): Promise<void> {
  for (let i = 0; i < WARMUP; i++) await infer(a, modelId, inputs, prefer)
  await Promise.all(Array.from({ length: WARM_BURST }, async () => await infer(a, modelId, inputs, prefer)))
}

/** Resolves once A has no open connection to `peerId` (B was stopped). */
async function disconnected (a: InProcessNode, peerId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (a.libp2p.getConnections().some(c => c.remotePeer.toString() === peerId)) {
    if (Date.now() > deadline) throw new Error(`A still holds a connection to the stopped peer ${peerId} after ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

async function measure (processes: Processes, name: string, placement: Placement, progress: (line: string) => void): Promise<RunResult & { model: ModelInfo }> {
  const a = await startInProcessNode({ models: [name], hedging: false, capacity: CAPACITY, maxQueue: MAX_QUEUE, peers: [] })
  try {
    const runtime = (a.libp2p.services as unknown as { models: ModelRuntime }).models
    const model = runtime.list()[0]
    const inputs = benchInputs(model)
    progress(`warming A: ${WARMUP} requests, then an untimed burst of ${WARM_BURST}`)
    await warm(a, model.id, inputs, 'local')
    progress(`burst of ${BURST} on A alone`)
    const alone = [await burst(a, model.id, inputs, 'local')]
    progress(`alone: ${alone[0].wallMs} ms`)
    const aloneUnboundedBatches = model.fixedBatch === true ? undefined : await unboundedBatches(name, progress)
    const b = await processes.serving('models-peer', { capacity: CAPACITY, maxQueue: MAX_QUEUE, model: name, prefix: corePrefix(placement, PEER_CORE) })
    await a.libp2p.dial(multiaddr(b.address))
    await waitForPeers(a, [b.node.peerId], 60_000, model.id)
    progress(`warming B: ${WARMUP} remote requests, then an untimed burst of ${WARM_BURST}`)
    await warm(a, model.id, inputs, 'remote')
    const withPeer: BurstResult[] = []
    const withPeerBurst = async (): Promise<void> => {
      progress(`burst of ${BURST} on A with the idle peer B (${withPeer.length + 1} of 2)`)
      const result = await burst(a, model.id, inputs, 'auto', b.node.child.pid)
      progress(`with peer: ${result.wallMs} ms, attempts ${JSON.stringify(result.attempts)}, timeline ${JSON.stringify(result.timeline)}, CPU share ${JSON.stringify(result.cpuShare)}`)
      withPeer.push(result)
    }
    await withPeerBurst()
    progress(`latency: ${LATENCY_SAMPLES} local and ${LATENCY_SAMPLES} remote requests, interleaved`)
    const lat = await latency(a, b.node.peerId, model.id, inputs)
    await withPeerBurst()
    await processes.stopAll()
    await disconnected(a, b.node.peerId, 30_000)
    progress(`burst of ${BURST} on A alone again (B stopped)`)
    alone.push(await burst(a, model.id, inputs, 'local'))
    progress(`alone again: ${alone[1].wallMs} ms`)
    const aloneMs = Math.min(...alone.map(r => r.wallMs))
    const withPeerMs = Math.min(...withPeer.map(r => r.wallMs))
    const unboundedMs = aloneUnboundedBatches?.wallMs ?? Infinity
    const baseline = unboundedMs < aloneMs ? 'aloneUnboundedBatches' : 'alone'
    return {
      model: runtime.get(model.id) ?? model,
      alone,
      aloneMs,
      ...(aloneUnboundedBatches != null ? { aloneUnboundedBatches } : {}),
      withPeer,
      withPeerMs,
      speedup: round3(Math.min(aloneMs, unboundedMs) / withPeerMs),
      speedupOfMeans: round3(Math.min(mean(alone.map(r => r.wallMs)), unboundedMs) / mean(withPeer.map(r => r.wallMs))),
      baseline,
      latency: lat
    }
  } finally {
    await a.stop()
    await processes.stopAll()
  }
}
