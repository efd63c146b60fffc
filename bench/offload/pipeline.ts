/**
 * Pipeline phase (issue #12): how close a node serving through the mesh gets
 * to the model's own throughput. In each round, side by side:
 * - `direct`: `predict` of the example model at batch 1, one call at a time,
 *   in the driver process (the model's own throughput on one core);
 * - `pipelined`: batch-1 requests from the driver to one serving process over
 *   `/edge-mesh/infer/1.1.0` (one stream, coalescing, `concurrency` in flight);
 * - `perStream`: the same over `/edge-mesh/infer/1.0.0` (one stream per request),
 *   the path of the first version, for comparison.
 * Blocks rotate their order each round; each round gives a ratio
 * pipelined / direct, and the goal (>= 0.5) is judged on their median. The
 * driver and the serving node each have a core of the machine's two, so the
 * ratio counts the whole path (client encode, transport, server, batching).
 */
import { MODEL_DIR, MODEL_ID, PIPELINE } from './constants.js'
import { burst, directSender } from './direct.js'
import { benchInput, startInProcessNode } from './driver.js'
import { closedLoop, median, round2 } from './stats.js'
import type { SendTo } from './direct.js'
import type { InProcessNode } from './driver.js'
import type { Processes } from './processes.js'
import type { TensorData } from '../../src/model/types.js'

type Kind = 'direct' | 'pipelined' | 'perStream'

export interface PipelineRound {
  /** Requests per second. */
  direct: number
  pipelined: number
  perStream: number
  /** pipelined / direct. */
  ratio: number
  /** Mean micro-batch size the server reported for pipelined requests. */
  meanBatch: number
}

export interface PipelineResult {
  rounds: PipelineRound[]
  /** Median over rounds of pipelined / direct (the goal's figure). */
  ratio: number
  /** Median over rounds of pipelined / perStream. */
  speedupOverPerStream: number
  failed: number
  settings: typeof PIPELINE
}

/** Direct predict, one call at a time; resolves with calls per second. */
async function directRate (node: InProcessNode, input: TensorData, count: number): Promise<number> {
  const ms = await closedLoop(count, 1, async () => { await node.models.predict(MODEL_ID, [input]) })
  return count / ms * 1000
}

export async function measurePipeline (processes: Processes, progress: (line: string) => void): Promise<PipelineResult> {
  const input = await benchInput()
  const server = await processes.serving('pipeline', { capacity: PIPELINE.capacity, maxQueue: PIPELINE.maxQueue })
  const driver = await startInProcessNode({ models: [MODEL_DIR], peers: [server.address] })
  const batches: number[] = []
  const invokers: Record<'pipelined' | 'perStream', SendTo> = {
    pipelined: directSender(driver.libp2p, input, {}, (size) => { batches.push(size) }),
    perStream: directSender(driver.libp2p, input, { protocol: '1.0.0' })
  }
  const peer = server.node.peerId
  try {
    progress(`pipeline: warm-up, ${PIPELINE.warmupRequests} requests of each kind`)
    await directRate(driver, input, PIPELINE.warmupRequests)
    await burst(invokers.pipelined, peer, PIPELINE.warmupRequests, PIPELINE.concurrency)
    await burst(invokers.perStream, peer, PIPELINE.warmupRequests, PIPELINE.perStreamConcurrency)
    batches.length = 0
    const rounds: PipelineRound[] = []
    let failed = 0
    const orders: Kind[][] = [['direct', 'pipelined', 'perStream'], ['pipelined', 'perStream', 'direct'], ['perStream', 'direct', 'pipelined']]
    for (let round = 0; round < PIPELINE.rounds; round++) {
      const rate: Record<Kind, number> = { direct: 0, pipelined: 0, perStream: 0 }
      for (const kind of orders[round % orders.length]) {
        if (kind === 'direct') {
          rate.direct = await directRate(driver, input, PIPELINE.directRequests)
          continue
        }
        const [count, concurrency] = kind === 'pipelined' ? [PIPELINE.requests, PIPELINE.concurrency] : [PIPELINE.perStreamRequests, PIPELINE.perStreamConcurrency]
        const { ms, failed: f } = await burst(invokers[kind], peer, count, concurrency)
        failed += f
        rate[kind] = (count - f) / ms * 1000
      }
      const meanBatch = batches.length === 0 ? 0 : batches.reduce((a, b) => a + b, 0) / batches.length
      batches.length = 0
      rounds.push({ direct: Math.round(rate.direct), pipelined: Math.round(rate.pipelined), perStream: Math.round(rate.perStream), ratio: round2(rate.pipelined / rate.direct), meanBatch: round2(meanBatch) })
      progress(`pipeline: round ${round + 1}/${PIPELINE.rounds}: ${JSON.stringify(rounds[rounds.length - 1])}`)
    }
    return {
      rounds,
      ratio: round2(median(rounds.map(r => r.ratio))),
      speedupOverPerStream: round2(median(rounds.map(r => r.pipelined / r.perStream))),
      failed,
      settings: PIPELINE
    }
  } finally {
    for (const send of Object.values(invokers)) send.close()
    await driver.stop()
    await processes.stopAll()
  }
}
