/**
 * A tiny libp2p process for the offload benchmark's baselines: the same stack
 * as an edge-mesh node (TCP, Noise, yamux, identify) and two protocols:
 * `ECHO_PROTOCOL` echoes a single length-prefixed frame per stream, read and
 * written with the same framing helpers as `/edge-mesh/infer/1.0.0`;
 * `SIZED_ECHO_PROTOCOL` answers every frame of a long-lived stream with a
 * frame of the size its first 4 bytes ask for (u32 big-endian), so a request
 * the size of an infer request gets a reply the size of an infer result. It prints
 * `{"event":"ready","peerId":...,"addresses":[...]}` on stdout, then serves
 * until SIGTERM.
 *
 * Usage: node dist/bench/offload/echo-peer.js [--listen /ip4/127.0.0.1/tcp/0]
 */
import * as lp from 'it-length-prefixed'
import { FrameReader, readFrames, sendWithBackpressure, writeFrame } from '../../src/wire/framing.js'
import { runBarePeer } from '../shared/bare-peer.js'
import { ECHO_PROTOCOL, SIZED_ECHO_PROTOCOL } from './constants.js'
import type { Stream } from '@libp2p/interface'

/** Largest frame echoed, bytes. */
const MAX_FRAME_BYTES = 64 * 1024

/** Longest an echo stream stays open, ms. */
const STREAM_TIMEOUT_MS = 10_000

/** Read one frame, send it back, close: the shape of an infer exchange without the model. */
async function echo (stream: Stream): Promise<void> {
  // A timer cleared when the stream is done (as the infer handler does), not
  // AbortSignal.timeout, which would keep every finished stream alive for the
  // whole timeout.
  const timeout = new AbortController()
  const timer = setTimeout(() => {
    timeout.abort(new Error('echo stream timed out'))
    stream.abort(new Error('echo stream timed out'))
  }, STREAM_TIMEOUT_MS)
  const signal = timeout.signal
  try {
    const frame = await new FrameReader(stream, { maxFrameBytes: MAX_FRAME_BYTES }).expect('the echo request')
    await writeFrame(stream, frame, { signal })
    await stream.close({ signal })
  } catch (err: any) {
    if (stream.status === 'open') stream.abort(err instanceof Error ? err : new Error(String(err)))
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Answer each frame with a frame of the size it asks for, until the caller
 * closes. Each reply is one `send()` of the length-prefixed frame, as the 1.1.0
 * writer sends (not `writeFrame`'s pipeline, whose extra promise hops would
 * make this floor higher than it is).
 */
async function sizedEcho (stream: Stream): Promise<void> {
  try {
    for await (const frame of readFrames(stream, { maxFrameBytes: MAX_FRAME_BYTES })) {
      const bytes = frame.subarray()
      const size = Math.min(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0), MAX_FRAME_BYTES)
      await sendWithBackpressure(stream, lp.encode.single(new Uint8Array(size)))
    }
    await stream.close()
  } catch (err: any) {
    if (stream.status === 'open') stream.abort(err instanceof Error ? err : new Error(String(err)))
  }
}

runBarePeer('echo-peer', [
  { protocol: ECHO_PROTOCOL, handler: echo, options: { maxInboundStreams: 256, maxOutboundStreams: 256 } },
  { protocol: SIZED_ECHO_PROTOCOL, handler: sizedEcho, options: { maxInboundStreams: 4, maxOutboundStreams: 4 } }
])
