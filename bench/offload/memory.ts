/**
 * Phase 4, memory of a serving process: its resident set (VmRSS) after a
 * warm-up and after `MEMORY.requests` more requests, each read after the
 * process has been idle for a moment (same pause both times). Node default
 * serving settings (capacity 2, queue 32, batching on). A few intermediate
 * readings are kept, so steady growth can be told from a one-off step.
 */
import { MEMORY } from './constants.js'
import { burst, directSender } from './direct.js'
import { benchInput, startInProcessNode } from './driver.js'
import { rssMb } from './processes.js'
import type { Processes } from './processes.js'

export interface MemoryResult {
  rssAfterWarmupMb: number
  rssAfterMb: number
  /** (after - afterWarmup) / afterWarmup. */
  growth: number
  /** RSS after every fifth of the requests, MiB. */
  trajectoryMb: number[]
  failed: number
  settings: typeof MEMORY
}

const IDLE_BEFORE_READING_MS = 1000
const STEPS = 5

async function settledRss (pid: number): Promise<number> {
  await new Promise(resolve => setTimeout(resolve, IDLE_BEFORE_READING_MS))
  return Math.round(await rssMb(pid) * 10) / 10
}

export async function measureMemory (processes: Processes, progress: (line: string) => void): Promise<MemoryResult> {
  const input = await benchInput()
  const peer = await processes.serving('memory', { capacity: 2 })
  const pid = peer.node.child.pid
  if (pid == null) throw new Error('serving process has no pid')
  const driver = await startInProcessNode({ peers: [peer.address] })
  try {
    const send = directSender(driver.libp2p, input)
    progress(`memory: warm-up, ${MEMORY.warmupRequests} requests`)
    let failed = (await burst(send, peer.node.peerId, MEMORY.warmupRequests, MEMORY.concurrency)).failed
    const rssAfterWarmupMb = await settledRss(pid)
    const trajectoryMb: number[] = []
    for (let step = 0; step < STEPS; step++) {
      failed += (await burst(send, peer.node.peerId, MEMORY.requests / STEPS, MEMORY.concurrency)).failed
      trajectoryMb.push(await settledRss(pid))
      progress(`memory: ${(step + 1) * MEMORY.requests / STEPS} requests, RSS ${trajectoryMb[step]} MiB`)
    }
    const rssAfterMb = trajectoryMb[trajectoryMb.length - 1]
    return {
      rssAfterWarmupMb,
      rssAfterMb,
      growth: Math.round((rssAfterMb - rssAfterWarmupMb) / rssAfterWarmupMb * 1000) / 1000,
      trajectoryMb,
      failed,
      settings: MEMORY
    }
  } finally {
    await driver.stop()
    await processes.stopAll()
  }
}
