/**
 * A tiny libp2p process for the offload benchmark's baseline: the same stack
 * as an edge-mesh node (TCP, Noise, yamux, identify) and one protocol that
 * echoes a single length-prefixed frame per stream, read and written with the
 * same framing helpers as `/edge-mesh/infer/1.0.0`. It prints
 * `{"event":"ready","peerId":...,"addresses":[...]}` on stdout, then serves
 * until SIGTERM.
 *
 * Usage: node dist/bench/offload/echo-peer.js [--listen /ip4/127.0.0.1/tcp/0]
 */
import { FrameReader, writeFrame } from '../../src/wire/framing.js'
import { runBarePeer } from '../shared/bare-peer.js'
import { ECHO_PROTOCOL } from './constants.js'
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

runBarePeer('echo-peer', [{ protocol: ECHO_PROTOCOL, handler: echo, options: { maxInboundStreams: 256, maxOutboundStreams: 256 } }])
