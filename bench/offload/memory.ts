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
 */
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
  failed: number
  settings: typeof MEMORY
}

const IDLE_BEFORE_READING_MS = 1000
const STEPS = 5

const mb = (bytes: number): number => Math.round(bytes / 1048576 * 10) / 10

async function settledReading (pid: number, apiUrl: string, requests: number): Promise<MemoryReading> {
  await new Promise(resolve => setTimeout(resolve, IDLE_BEFORE_READING_MS))
  const status = await (await fetch(`${apiUrl}/status`)).json() as { process: { heapUsedBytes: number, externalBytes: number }, tensors: { count: number } }
  return {
    requests,
    rssMb: Math.round(await rssMb(pid) * 10) / 10,
    heapMb: mb(status.process.heapUsedBytes),
    externalMb: mb(status.process.externalBytes),
    tensors: status.tensors.count
  }
}

export async function measureMemory (processes: Processes, progress: (line: string) => void): Promise<MemoryResult> {
  const input = await benchInput()
  const peer = await processes.serving('memory', { capacity: 2 })
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
      const reading = await settledReading(pid, peer.node.apiUrl, sent)
      readings.push(reading)
      progress(`memory: ${what}, ${sent} requests: RSS ${reading.rssMb} MiB, heap ${reading.heapMb} MiB, external ${reading.externalMb} MiB, ${reading.tensors} tensors`)
      return reading
    }
    for (let i = 0; i < STEPS; i++) await step(MEMORY.warmupRequests / STEPS, 'warm-up')
    const rssAfterWarmupMb = readings[readings.length - 1].rssMb
    const trajectoryMb: number[] = []
    for (let i = 0; i < STEPS; i++) trajectoryMb.push((await step(MEMORY.requests / STEPS, 'measured')).rssMb)
    const rssAfterMb = trajectoryMb[trajectoryMb.length - 1]
    return {
      rssAfterWarmupMb,
      rssAfterMb,
      growth: Math.round((rssAfterMb - rssAfterWarmupMb) / rssAfterWarmupMb * 1000) / 1000,
      trajectoryMb,
      readings,
      failed,
      settings: MEMORY
    }
  } finally {
    await driver.stop()
    await processes.stopAll()
  }
}
