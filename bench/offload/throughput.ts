/**
 * Phase 3, throughput of one saturated peer with micro-batching off and on.
 * Two serving processes with the same settings except `--no-batching` run at
 * the same time; the driver saturates one, then the other, in alternating
 * blocks (off, on, off, on, ...), each a closed loop with `concurrency`
 * requests in flight. Rates are total requests over total time per setting.
 * The driver and both peers share the machine's cores, so this is the
 * throughput of the whole path (client encode, transport, server), not of
 * `predict` alone.
 */
import { THROUGHPUT } from './constants.js'
import { burst, directSender } from './direct.js'
import { benchInput, startInProcessNode } from './driver.js'
import type { Processes } from './processes.js'

export interface ThroughputResult {
  /** Requests per second. */
  batchingOff: number
  batchingOn: number
  /** batchingOn / batchingOff. */
  ratio: number
  failed: number
  settings: typeof THROUGHPUT & { blocks: number }
}

const BLOCKS = 3

export async function measureThroughput (processes: Processes, progress: (line: string) => void): Promise<ThroughputResult> {
  const input = await benchInput()
  const settings = { capacity: THROUGHPUT.capacity, maxQueue: THROUGHPUT.maxQueue }
  const off = await processes.serving('throughput-off', { ...settings, batching: false })
  const on = await processes.serving('throughput-on', { ...settings, batching: true })
  const driver = await startInProcessNode({ peers: [off.address, on.address] })
  try {
    const send = directSender(driver.libp2p, input)
    const peers = { off: off.node.peerId, on: on.node.peerId }
    progress(`throughput: warm-up, ${THROUGHPUT.warmupRequests} requests to each peer`)
    for (const id of Object.values(peers)) await burst(send, id, THROUGHPUT.warmupRequests, THROUGHPUT.concurrency)
    const totals = { off: { ms: 0, n: 0 }, on: { ms: 0, n: 0 } }
    let failed = 0
    const perBlock = Math.ceil(THROUGHPUT.requests / BLOCKS)
    for (let block = 0; block < BLOCKS; block++) {
      for (const kind of ['off', 'on'] as const) {
        const { ms, failed: f } = await burst(send, peers[kind], perBlock, THROUGHPUT.concurrency)
        totals[kind].ms += ms
        totals[kind].n += perBlock - f
        failed += f
        progress(`throughput: block ${block + 1}/${BLOCKS} batching ${kind}: ${Math.round((perBlock - f) / ms * 1000)} req/s`)
      }
    }
    const rate = (t: { ms: number, n: number }): number => Math.round(t.n / t.ms * 1000)
    const batchingOff = rate(totals.off)
    const batchingOn = rate(totals.on)
    return { batchingOff, batchingOn, ratio: Math.round(batchingOn / batchingOff * 100) / 100, failed, settings: { ...THROUGHPUT, blocks: BLOCKS } }
  } finally {
    await driver.stop()
    await processes.stopAll()
  }
}
