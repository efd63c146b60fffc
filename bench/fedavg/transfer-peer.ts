/**
 * The serving process of the transfer phase: a libp2p node with the same
 * stack as an edge-mesh node (TCP, Noise, yamux, identify) and two protocols.
 *
 * - `/edge-mesh/fedavg/1.0.0`, served by the federated service's own stream
 *   handler (`serveStream`: control frame, then the weight record in 64 KiB
 *   data frames written by the codec's chunked encoder with backpressure).
 *   Its dispatch answers PULL with the benchmark's 1M-parameter record, as a
 *   coordinator answers it with a round's global weights; everything else is
 *   refused.
 * - `RAW_PROTOCOL`: the request is one mode byte (`RAW_MODES`).
 *   `raw`, the baseline: the 4,000,000 bytes of weight data sent as 64 KiB
 *   views of one buffer with `send()`/`'drain'` backpressure, no framing and
 *   no codec. The two diagnostic modes send the PULL reply's weight frames
 *   without its control frame: `framed` with `writeFrames` exactly as the
 *   fedavg protocol writes them (it-length-prefixed sends each varint prefix
 *   and each payload separately), `framedSingleSend` with each prefix and
 *   payload in one `send()`.
 *
 * It prints `{"event":"ready","peerId":...,"addresses":[...]}` on stdout,
 * then serves until SIGTERM.
 *
 * Usage: node dist/bench/fedavg/transfer-peer.js [--listen /ip4/127.0.0.1/tcp/0]
 */
import { runBarePeer } from '../shared/bare-peer.js'
import * as lp from 'it-length-prefixed'
import { logger } from '@libp2p/logger'
import { ProtocolError } from '../../src/errors.js'
import { encodeWeightRecord, encodedWeightRecordSize } from '../../src/federated/weights/codec.js'
import { DEFAULT_WEIGHT_CHUNK_BYTES, FEDAVG_PROTOCOL } from '../../src/federated/mesh/protocol/constants.js'
import { serveStream } from '../../src/federated/mesh/protocol/handler.js'
import { sendWithBackpressure, writeFrames } from '../../src/wire/framing.js'
import { RAW_MODES, RAW_PROTOCOL, TRANSFER } from './constants.js'
import { MODEL_DATA_BYTES, syntheticRecord } from './weights.js'
import type { RawMode } from './constants.js'
import type { Dispatch } from '../../src/federated/mesh/protocol/handler.js'
import type { Connection, Stream } from '@libp2p/interface'

const log = logger('edge-mesh-bench:transfer-peer')
const record = syntheticRecord(0)
/** The raw baseline's bytes: the record's weight data, back to back. */
const payload = new Uint8Array(MODEL_DATA_BYTES)
record.reduce((off, t) => { payload.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), off); return off + t.data.byteLength }, 0)

const dispatch: Dispatch = async ({ message }) => {
  if (message.type !== 'pull') throw new ProtocolError(`the benchmark peer answers only pull, got ${message.type}`)
  return {
    message: { type: 'weights', runId: message.runId, version: message.version, weightBytes: encodedWeightRecordSize(record) },
    record
  }
}

/** The request: one byte, the index of a mode in `RAW_MODES`. */
async function readMode (stream: Stream): Promise<RawMode> {
  const bytes: number[] = []
  for await (const chunk of stream) {
    for (const b of chunk instanceof Uint8Array ? chunk : chunk.subarray()) bytes.push(b)
    if (bytes.length > 1) throw new ProtocolError('raw request longer than 1 byte')
  }
  const mode = RAW_MODES[bytes[0]]
  if (bytes.length !== 1 || mode === undefined) throw new ProtocolError('raw request is not a mode byte')
  return mode
}

async function send (stream: Stream, mode: RawMode, signal: AbortSignal): Promise<void> {
  const chunks = encodeWeightRecord(record, { chunkBytes: DEFAULT_WEIGHT_CHUNK_BYTES })
  if (mode === 'framed') {
    await writeFrames(stream, chunks, { signal })
  } else if (mode === 'framedSingleSend') {
    for (const chunk of chunks) await sendWithBackpressure(stream, lp.encode.single(chunk), { signal })
  } else {
    for (let off = 0; off < payload.length; off += TRANSFER.rawChunkBytes) {
      await sendWithBackpressure(stream, payload.subarray(off, Math.min(payload.length, off + TRANSFER.rawChunkBytes)), { signal })
    }
  }
}

/** Send the bytes of the requested mode, honouring backpressure, then close. */
async function serveRaw (stream: Stream): Promise<void> {
  const signal = AbortSignal.timeout(TRANSFER.timeoutMs)
  try {
    await send(stream, await readMode(stream), signal)
    await stream.close({ signal })
  } catch (err: any) {
    log('raw stream failed: %s', err?.message)
    if (stream.status === 'open') stream.abort(err instanceof Error ? err : new Error(String(err)))
  }
}

const limits = { maxInboundStreams: 8, maxOutboundStreams: 8 }
runBarePeer('transfer-peer', [
  {
    protocol: FEDAVG_PROTOCOL,
    handler: async (stream: Stream, connection: Connection) => {
      await serveStream(stream, connection.remotePeer.toString(), dispatch, { timeoutMs: TRANSFER.timeoutMs, log })
    },
    options: limits
  },
  { protocol: RAW_PROTOCOL, handler: serveRaw, options: limits }
])
