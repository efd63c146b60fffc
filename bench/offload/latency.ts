/**
 * Phase 1, latency at batch 1, measured side by side: for each round, one
 * local request (prefer `local` on the in-process node A), one remote request
 * (prefer `remote`, A to the serving process B) and one raw libp2p echo of a
 * frame the size of that request (A to the echo process), in a rotating order
 * so that no kind always runs first. Timed around `offload.infer()` and the
 * echo exchange inside A: no HTTP.
 *
 * The echo opens one stream per exchange, writes one length-prefixed frame,
 * half-closes, reads one frame: exactly what a remote infer does, minus the
 * model and the codec. So `remote - local` against `echo` is the price of the
 * offload protocol over the bare transport.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { FrameReader, writeFrame } from '../../src/wire/framing.js'
import { encodeRequest } from '../../src/offload/codec.js'
import { DEADLINE_MS, ECHO_PROTOCOL, LATENCY_ROUNDS, LATENCY_WARMUP, MODEL_DIR, MODEL_ID } from './constants.js'
import { benchInput, startInProcessNode, waitForPeers } from './driver.js'
import { summary } from './stats.js'
import type { InProcessNode } from './driver.js'
import type { Processes } from './processes.js'
import type { TensorData } from '../../src/model/types.js'
import type { Libp2p, PeerId } from '@libp2p/interface'

export interface LatencyResult {
  local: { p50: number, p99: number, n: number, computeP50: number }
  remote: { p50: number, p99: number, n: number, computeP50: number }
  echo: { p50: number, p99: number, n: number, payloadBytes: number }
  /** remote p50 minus local p50, ms. */
  remoteOverheadP50: number
}

type Kind = 'local' | 'remote' | 'echo'

/** One echo exchange on a new stream; resolves with its round-trip time, ms. */
async function echoOnce (libp2p: Libp2p, peer: PeerId, payload: Uint8Array): Promise<number> {
  const startedAt = performance.now()
  const signal = AbortSignal.timeout(DEADLINE_MS)
  const stream = await libp2p.dialProtocol(peer, ECHO_PROTOCOL, { signal })
  await writeFrame(stream, payload, { signal })
  await stream.close({ signal })
  const reply = await new FrameReader(stream).expect('the echo')
  if (reply.byteLength !== payload.byteLength) throw new Error('echo returned another size')
  return performance.now() - startedAt
}

/** One inference through A's offload service; resolves with its latency and the server's compute time, ms. */
async function inferOnce (node: InProcessNode, input: TensorData, prefer: 'local' | 'remote', expectServedBy: string): Promise<{ ms: number, computeMs: number }> {
  const startedAt = performance.now()
  const result = await node.offload.infer(MODEL_ID, [input], { prefer, deadlineMs: DEADLINE_MS })
  const ms = performance.now() - startedAt
  if (result.servedBy !== expectServedBy) throw new Error(`${prefer} request served by ${result.servedBy}, expected ${expectServedBy}: ${JSON.stringify(result.attemptLog)}`)
  return { ms, computeMs: result.latencyMs.computeMs }
}

/** A payload of the same size as the encoded [1, 784] float32 request. */
function echoPayload (input: TensorData): Uint8Array {
  const frame = encodeRequest({ requestId: 1n, deadlineMs: DEADLINE_MS, modelId: MODEL_ID, inputs: [input] })
  return frame.subarray()
}

export async function measureLatency (processes: Processes, progress: (line: string) => void): Promise<LatencyResult> {
  const input = await benchInput()
  const payload = echoPayload(input)
  const b = await processes.serving('latency-b', { capacity: 2 })
  const echo = await processes.echo()
  const a = await startInProcessNode({ models: [MODEL_DIR], hedging: false, peers: [b.address, echo.address] })
  try {
    await waitForPeers(a, [b.node.peerId])
    const echoPeer = peerIdFromString(multiaddr(echo.address).getComponents().find(c => c.name === 'p2p')?.value ?? '')
    const samples: Record<Kind, number[]> = { local: [], remote: [], echo: [] }
    const compute: Record<'local' | 'remote', number[]> = { local: [], remote: [] }
    const run = async (kind: Kind, keep: boolean): Promise<void> => {
      if (kind === 'echo') {
        const ms = await echoOnce(a.libp2p, echoPeer, payload)
        if (keep) samples.echo.push(ms)
        return
      }
      const { ms, computeMs } = await inferOnce(a, input, kind, kind === 'local' ? a.peerId : b.node.peerId)
      if (keep) { samples[kind].push(ms); compute[kind].push(computeMs) }
    }
    const orders: Kind[][] = [['local', 'remote', 'echo'], ['remote', 'echo', 'local'], ['echo', 'local', 'remote']]
    progress(`latency: warm-up, ${LATENCY_WARMUP} requests of each kind`)
    for (let i = 0; i < LATENCY_WARMUP; i++) for (const kind of orders[i % 3]) await run(kind, false)
    progress(`latency: ${LATENCY_ROUNDS} interleaved rounds of local, remote and echo`)
    for (let i = 0; i < LATENCY_ROUNDS; i++) {
      for (const kind of orders[i % 3]) await run(kind, true)
      if ((i + 1) % 500 === 0) progress(`latency: ${i + 1}/${LATENCY_ROUNDS} rounds`)
    }
    const local = summary(samples.local)
    const remote = summary(samples.remote)
    return {
      local: { ...local, computeP50: summary(compute.local).p50 },
      remote: { ...remote, computeP50: summary(compute.remote).p50 },
      echo: { ...summary(samples.echo), payloadBytes: payload.byteLength },
      remoteOverheadP50: Math.round((remote.p50 - local.p50) * 100) / 100
    }
  } finally {
    await a.stop()
    await processes.stopAll()
  }
}
