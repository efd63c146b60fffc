/**
 * Phase 4, memory of a serving process: its resident set (VmRSS) after a
 * warm-up and after `MEMORY.requests` more requests, each read after the
 * process has been idle for a moment (same pause both times). Node default
 * serving settings (capacity 2, queue 32, batching on). A few intermediate
 * readings are kept, so steady growth can be told from a one-off step.
 *
 * Next to each RSS reading the node's own `/status` gives its V8 heap, its
 * memory outside the heap (ArrayBuffers, the WebAssembly backend's memory)
 * and the count of live TF.js tensors: a leak shows as one of them climbing
 * with the requests, while allocator high-water marks show in RSS alone.
 * The warm-up is long enough for those high-water marks to settle (they take
 * a few tens of thousands of requests at this concurrency), so the measured
 * growth is what continued serving adds.
 *
 * RSS alone cannot tell a leak from garbage not yet collected and from the
 * allocator keeping pages it once needed (V8's heap swings by tens of MiB
 * between collections at this rate). So each reading is taken twice: as the
 * process is, then right after a forced full collection in the serving
 * process (started with `--expose-gc` and `gc-probe.js`): RSS, V8 heap,
 * memory outside the heap and ArrayBuffers. Memory still held after a forced
 * collection is what serving retains; its growth has its own goal, beside
 * (not instead of) the RSS goal.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MEMORY } from './constants.js'
import { burst, directSender } from './direct.js'
import { benchInput, startInProcessNode } from './driver.js'
import { rssMb } from './processes.js'
import type { Processes } from './processes.js'

/** One reading of the serving node's memory. */
export interface MemoryReading {
  requests: number
  rssMb: number
  heapMb: number
  externalMb: number
  tensors: number
  /** Right after a forced full GC in the serving process, MiB. */
  afterGc: { rssMb: number, heapMb: number, externalMb: number, arrayBuffersMb: number }
}

export interface MemoryResult {
  rssAfterWarmupMb: number
  rssAfterMb: number
  /** (after - afterWarmup) / afterWarmup. */
  growth: number
  /** RSS after every fifth of the requests, MiB. */
  trajectoryMb: number[]
  /** Every reading: after each fifth of the warm-up and of the measured requests. */
  readings: MemoryReading[]
  /**
   * Growth over the measured requests of what a forced full GC leaves
   * (same readings as `growth`): RSS, and retained memory (V8 heap + memory
   * outside it) with its parts.
   */
  afterGc: { rssGrowth: number, retainedGrowth: number, retainedAfterWarmupMb: number, retainedAfterMb: number, heapGrowth: number, externalGrowth: number }
  failed: number
  settings: typeof MEMORY
}

const IDLE_BEFORE_READING_MS = 1000
const STEPS = 5

const mb = (bytes: number): number => Math.round(bytes / 1048576 * 10) / 10

/** Longest wait for the serving process to answer a forced-GC request, ms. */
const GC_READING_TIMEOUT_MS = 10_000

/** The serving process's memory right after a forced full GC (see `gc-probe.ts`). */
async function forcedGcReading (pid: number, file: string, seq: number): Promise<MemoryReading['afterGc']> {
  process.kill(pid, 'SIGUSR2')
  const deadline = Date.now() + GC_READING_TIMEOUT_MS
  while (Date.now() < deadline) {
    const text = await readFile(file, 'utf8').catch(() => '')
    const usage = text === '' ? undefined : JSON.parse(text) as { seq: number, rss: number, heapUsed: number, external: number, arrayBuffers: number }
    if (usage != null && usage.seq >= seq) return { rssMb: mb(usage.rss), heapMb: mb(usage.heapUsed), externalMb: mb(usage.external), arrayBuffersMb: mb(usage.arrayBuffers) }
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  throw new Error('the serving process did not report its memory after a forced GC')
}

async function settledReading (pid: number, apiUrl: string, requests: number, gcFile: string, seq: number): Promise<MemoryReading> {
  await new Promise(resolve => setTimeout(resolve, IDLE_BEFORE_READING_MS))
  const status = await (await fetch(`${apiUrl}/status`)).json() as { process: { heapUsedBytes: number, externalBytes: number }, tensors: { count: number } }
  const rss = Math.round(await rssMb(pid) * 10) / 10
  return {
    requests,
    rssMb: rss,
    heapMb: mb(status.process.heapUsedBytes),
    externalMb: mb(status.process.externalBytes),
    tensors: status.tensors.count,
    afterGc: await forcedGcReading(pid, gcFile, seq)
  }
}

const growth = (before: number, after: number): number => Math.round((after - before) / before * 1000) / 1000

/** RSS and retained-memory growth after forced GCs between two readings. */
function afterGcGrowth (first: MemoryReading, last: MemoryReading): MemoryResult['afterGc'] {
  const retained = (r: MemoryReading): number => Math.round((r.afterGc.heapMb + r.afterGc.externalMb) * 10) / 10
  return {
    rssGrowth: growth(first.afterGc.rssMb, last.afterGc.rssMb),
    retainedGrowth: growth(retained(first), retained(last)),
    retainedAfterWarmupMb: retained(first),
    retainedAfterMb: retained(last),
    heapGrowth: growth(first.afterGc.heapMb, last.afterGc.heapMb),
    externalGrowth: growth(first.afterGc.externalMb, last.afterGc.externalMb)
  }
}

export async function measureMemory (processes: Processes, progress: (line: string) => void): Promise<MemoryResult> {
  const input = await benchInput()
  const gcDir = await mkdtemp(join(tmpdir(), 'edge-mesh-bench-gc-'))
  const gcFile = join(gcDir, 'memory.json')
  const probe = new URL('./gc-probe.js', import.meta.url).href
  const peer = await processes.serving('memory', { capacity: 2, env: { NODE_OPTIONS: `--expose-gc --import ${probe}`, EDGE_MESH_BENCH_GC_FILE: gcFile } })
  const pid = peer.node.child.pid
  if (pid == null) throw new Error('serving process has no pid')
  const driver = await startInProcessNode({ peers: [peer.address] })
  try {
    const send = directSender(driver.libp2p, input)
    const readings: MemoryReading[] = []
    let failed = 0
    let sent = 0
    const step = async (requests: number, what: string): Promise<MemoryReading> => {
      failed += (await burst(send, peer.node.peerId, requests, MEMORY.concurrency)).failed
      sent += requests
      const reading = await settledReading(pid, peer.node.apiUrl, sent, gcFile, readings.length + 1)
      readings.push(reading)
      const g = reading.afterGc
      progress(`memory: ${what}, ${sent} requests: RSS ${reading.rssMb} MiB, heap ${reading.heapMb} MiB, external ${reading.externalMb} MiB, ${reading.tensors} tensors; ` +
        `after a forced GC: RSS ${g.rssMb} MiB, heap ${g.heapMb} MiB, external ${g.externalMb} MiB (ArrayBuffers ${g.arrayBuffersMb} MiB)`)
      return reading
    }
    for (let i = 0; i < STEPS; i++) await step(MEMORY.warmupRequests / STEPS, 'warm-up')
    const warm = readings[readings.length - 1]
    const rssAfterWarmupMb = warm.rssMb
    const trajectoryMb: number[] = []
    for (let i = 0; i < STEPS; i++) trajectoryMb.push((await step(MEMORY.requests / STEPS, 'measured')).rssMb)
    const rssAfterMb = trajectoryMb[trajectoryMb.length - 1]
    return {
      rssAfterWarmupMb,
      rssAfterMb,
      growth: growth(rssAfterWarmupMb, rssAfterMb),
      trajectoryMb,
      readings,
      afterGc: afterGcGrowth(warm, readings[readings.length - 1]),
      failed,
      settings: MEMORY
    }
  } finally {
    await driver.stop()
    await processes.stopAll()
    await rm(gcDir, { recursive: true, force: true })
  }
}
