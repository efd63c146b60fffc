/**
 * Codec phase: CPU time to encode and decode one request frame of an image
 * model's input (MoveNet's int32 [1, 192, 192, 3], pixel values 0..255), in
 * this process, over the 1.0.0 codec (int32 on the wire, 442 KB) and the
 * 1.1.0 codec (uint8 on the wire, 111 KB, widened back on decode). Each frame
 * is split into 64 KiB chunks and joined again before decoding, as a
 * transport hands it over. No network: this is the part of a remote request's
 * cost that the frame format decides (the transport's encryption then scales
 * with the bytes).
 */
import { decodeRequest, encodeRequest } from '../../src/offload/codec.js'
import { decodePipeInbound, encodePipeRequest, toWireInputs } from '../../src/offload/pipe-codec.js'
import { Uint8ArrayList } from '../../src/wire/framing.js'
import { round3 } from '../shared/stats.js'
import { median } from './stats.js'
import type { TensorData } from '../../src/model/types.js'

export interface CodecCostResult {
  /** Median CPU ms per encode + decode, and the frame's bytes. */
  int32V1: { ms: number, bytes: number }
  uint8V2: { ms: number, bytes: number }
  samples: number
}

const SAMPLES = 200
const CHUNK = 64 * 1024

/** The frame as a transport delivers it: in chunks, copied into one buffer by the reader. */
function delivered (frame: Uint8ArrayList): Uint8Array {
  const flat = frame.subarray()
  const chunks = new Uint8ArrayList()
  for (let at = 0; at < flat.length; at += CHUNK) chunks.append(flat.slice(at, at + CHUNK))
  return chunks.subarray()
}

function cpuMs (task: () => void): number {
  const start = process.cpuUsage()
  task()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000
}

export function measureCodecCost (progress: (line: string) => void): CodecCostResult {
  const data = Int32Array.from({ length: 192 * 192 * 3 }, (_, i) => (i * 7919) % 256)
  const image: TensorData = { dtype: 'int32', shape: [1, 192, 192, 3], data }
  const modelId = 'sha256-' + '0'.repeat(64)
  const v1: number[] = []
  const v2: number[] = []
  const bytes = { v1: 0, v2: 0 }
  progress(`codec: ${SAMPLES} encode + decode of a [1, 192, 192, 3] int32 image frame, each codec`)
  for (let i = 0; i < SAMPLES; i++) {
    v1.push(cpuMs(() => {
      const frame = encodeRequest({ requestId: 1n, deadlineMs: 1000, modelId, inputs: [image] })
      bytes.v1 = frame.byteLength
      decodeRequest(delivered(frame))
    }))
    v2.push(cpuMs(() => {
      const frame = encodePipeRequest(modelId, [{ id: 1, rows: 1, deadlineMs: 1000 }], [toWireInputs([image], true)])
      bytes.v2 = frame.byteLength
      decodePipeInbound(delivered(frame))
    }))
  }
  return { int32V1: { ms: round3(median(v1)), bytes: bytes.v1 }, uint8V2: { ms: round3(median(v2)), bytes: bytes.v2 }, samples: SAMPLES }
}
