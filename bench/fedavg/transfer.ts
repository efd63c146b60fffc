/**
 * Phase 2, weight-transfer goodput between two processes: this process runs
 * a libp2p node (TCP, Noise, yamux, identify: an edge-mesh node's stack) and
 * pulls from the transfer peer (`transfer-peer.ts`).
 *
 * - **PULL**: the fedavg protocol's own client, `exchange()` of
 *   `src/federated/mesh/protocol/wire.ts`, exactly as a participant pulls a
 *   round's global weights: open a `/edge-mesh/fedavg/1.0.0` stream, send
 *   PULL, read the WEIGHTS control frame and decode the record incrementally
 *   from its data frames. Timed until the record is decoded.
 * - **raw**: the same 4,000,000 bytes of weight data on a bench protocol with
 *   no framing and no codec: timed from opening the stream until its last byte.
 *
 * Goodput = useful bytes (4,000,000 bytes of float32 weights) / time, both
 * ways. Two diagnostics split the difference (`breakdown`): the PULL reply's
 * weight frames as the protocol writes them, received without decoding
 * (`framed`: the cost of the sender's framing), and the same frames with each
 * length prefix and payload in one `send()` (`framedSingleSend`: what a
 * change to `writeFrames` would give). Each repetition runs every kind once,
 * order reversed every other repetition, on the one connection, after a
 * warm-up; medians reported.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { loopbackAddress } from '../../src/cli/cluster.js'
import { exchange } from '../../src/federated/mesh/protocol/wire.js'
import { RAW_MODES, RAW_PROTOCOL, TARGETS, TRANSFER } from './constants.js'
import { median, percentile, round2, round3 } from './stats.js'
import { MODEL_DATA_BYTES, syntheticRecord } from './weights.js'
import type { RawMode } from './constants.js'
import type { Processes } from './processes.js'
import type { StreamOpener } from '../../src/federated/mesh/protocol/wire.js'
import type { WeightRecord } from '../../src/model/types.js'
import type { Libp2p } from '@libp2p/interface'

/** Milliseconds per transfer. */
export interface Spread { p50: number, p90: number, min: number }

export interface TransferResult {
  /** Median goodput of a PULL, MB/s (1e6 bytes of weight data per second). */
  goodputMBps: number
  /** Median throughput of the raw stream, MB/s. */
  rawMBps: number
  /** goodputMBps / rawMBps. */
  ratio: number
  pullMs: Spread
  rawMs: Spread
  /** Where PULL's time goes beyond raw (diagnostics; see the module TSDoc). */
  breakdown: {
    framedMs: Spread
    framedSingleSendMs: Spread
    /** raw p50 / framed p50: what the sender's framing alone leaves of raw. */
    framedRatio: number
    /** raw p50 / framedSingleSend p50. */
    framedSingleSendRatio: number
    /** From opening the stream to the first reply chunk: the request/response exchange before any data flows. */
    pullFirstByteMs: Spread
    rawFirstByteMs: Spread
  }
  /** Weight data bytes per transfer (what both count as useful). */
  usefulBytes: number
  /** Bytes a PULL reply put on the stream (control frame, record, frame prefixes). */
  pullWireBytes: number
  settings: typeof TRANSFER
}

function sameRecord (a: WeightRecord, b: WeightRecord): boolean {
  return a.length === b.length && a.every((t, i) => t.name === b[i].name && t.data.length === b[i].data.length &&
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(b[i].data.buffer, b[i].data.byteOffset, b[i].data.byteLength)))
}

/** A stream opener that notes when the last stream it opened delivered its first reply chunk (diagnostics). */
interface TimedOpener extends StreamOpener {
  /** `performance.now()` of the first chunk of the last stream opened, 0 before it arrives. */
  firstChunkAt: number
}

function timedOpener (libp2p: Libp2p): TimedOpener {
  const opener: TimedOpener = {
    firstChunkAt: 0,
    openStream: async (p, protocol, options) => {
      opener.firstChunkAt = 0
      const stream = await libp2p.dialProtocol(p, protocol, { signal: options?.signal })
      return new Proxy(stream, {
        get (target, key) {
          if (key === Symbol.asyncIterator) {
            return async function * () {
              for await (const chunk of target) {
                if (opener.firstChunkAt === 0) opener.firstChunkAt = performance.now()
                yield chunk
              }
            }
          }
          const value = Reflect.get(target, key, target)
          return typeof value === 'function' ? value.bind(target) : value
        }
      })
    }
  }
  return opener
}

async function pull (opener: TimedOpener, peerId: string): Promise<{ ms: number, firstByteMs: number, record: WeightRecord, bytes: number }> {
  const started = performance.now()
  const { record, bytesReceived } = await exchange(opener, peerId, { type: 'pull', runId: 'bench', version: 0 }, undefined, 'weights', { timeoutMs: TRANSFER.timeoutMs })
  const ms = performance.now() - started
  if (record === undefined) throw new Error('weights reply without a record')
  return { ms, firstByteMs: opener.firstChunkAt - started, record, bytes: bytesReceived }
}

/** Ask the peer for `mode`'s bytes and count them until the stream ends (no decoding). */
async function raw (libp2p: Libp2p, peerId: string, mode: RawMode): Promise<{ ms: number, firstByteMs: number, bytes: number }> {
  const started = performance.now()
  const signal = AbortSignal.timeout(TRANSFER.timeoutMs)
  const stream = await libp2p.dialProtocol(multiaddr(`/p2p/${peerId}`), RAW_PROTOCOL, { signal })
  stream.send(Uint8Array.of(RAW_MODES.indexOf(mode)))
  await stream.close({ signal })
  let bytes = 0
  let first = 0
  for await (const chunk of stream) {
    if (first === 0) first = performance.now()
    bytes += chunk.byteLength
  }
  return { ms: performance.now() - started, firstByteMs: first - started, bytes }
}

function spread (ms: number[]): Spread {
  return { p50: round2(median(ms)), p90: round2(percentile(ms, 0.9)), min: round2(Math.min(...ms)) }
}

export async function measureTransfer (processes: Processes, progress: (line: string) => void): Promise<TransferResult> {
  const peer = await processes.helper('transfer-peer.js')
  const libp2p = await createLibp2p({
    addresses: { listen: [`/ip4/${loopbackAddress(0)}/tcp/0`] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  try {
    await libp2p.dial(multiaddr(peer.address))
    const opener = timedOpener(libp2p)
    const expected = syntheticRecord(0)
    const first = await pull(opener, peer.peerId)
    if (!sameRecord(first.record, expected)) throw new Error('pulled record differs from the one served')
    const rawCheck = await raw(libp2p, peer.peerId, 'raw')
    if (rawCheck.bytes !== MODEL_DATA_BYTES) throw new Error(`raw stream delivered ${rawCheck.bytes} of ${MODEL_DATA_BYTES} bytes`)
    const firstByte = { pull: [] as number[], raw: [] as number[] }
    const kinds: Record<'pull' | RawMode, () => Promise<number>> = {
      pull: async () => { const r = await pull(opener, peer.peerId); firstByte.pull.push(r.firstByteMs); return r.ms },
      raw: async () => { const r = await raw(libp2p, peer.peerId, 'raw'); firstByte.raw.push(r.firstByteMs); return r.ms },
      framed: async () => (await raw(libp2p, peer.peerId, 'framed')).ms,
      framedSingleSend: async () => (await raw(libp2p, peer.peerId, 'framedSingleSend')).ms
    }
    const order = Object.keys(kinds) as Array<keyof typeof kinds>
    for (let i = 0; i < TRANSFER.warmup; i++) for (const k of order) await kinds[k]()
    progress(`transfer: ${TRANSFER.repetitions} x (${order.join(', ')}) of ${MODEL_DATA_BYTES / 1e6} MB`)
    const ms: Record<keyof typeof kinds, number[]> = { pull: [], raw: [], framed: [], framedSingleSend: [] }
    firstByte.pull.length = 0
    firstByte.raw.length = 0
    for (let i = 0; i < TRANSFER.repetitions; i++) {
      for (const k of i % 2 === 0 ? order : [...order].reverse()) ms[k].push(await kinds[k]())
    }
    const { pull: pullMs, raw: rawMs } = ms
    const goodputMBps = MODEL_DATA_BYTES / 1e6 / (median(pullMs) / 1000)
    const rawMBps = MODEL_DATA_BYTES / 1e6 / (median(rawMs) / 1000)
    progress(`transfer: PULL ${round2(goodputMBps)} MB/s, raw ${round2(rawMBps)} MB/s (target ratio ${TARGETS.transferRatio})`)
    return {
      goodputMBps: round2(goodputMBps),
      rawMBps: round2(rawMBps),
      ratio: round3(goodputMBps / rawMBps),
      pullMs: spread(pullMs),
      rawMs: spread(rawMs),
      breakdown: {
        framedMs: spread(ms.framed),
        framedSingleSendMs: spread(ms.framedSingleSend),
        framedRatio: round3(median(rawMs) / median(ms.framed)),
        framedSingleSendRatio: round3(median(rawMs) / median(ms.framedSingleSend)),
        pullFirstByteMs: spread(firstByte.pull),
        rawFirstByteMs: spread(firstByte.raw)
      },
      usefulBytes: MODEL_DATA_BYTES,
      pullWireBytes: first.bytes,
      settings: TRANSFER
    }
  } finally {
    await libp2p.stop()
  }
}
