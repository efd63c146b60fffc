/**
 * `/edge-mesh/load-probe/1.0.0`: ask one peer for its load now.
 *
 * In a large mesh a gossiped report can be tens of seconds old (the heartbeat
 * slows down as the mesh grows), and a peer's answers only reach the clients
 * that use it. Before power of two choices compares two peers whose figures are
 * older than `DEFAULT_PROBE_AFTER_MS`, the client asks them (one round trip,
 * both at once). Wire (docs/protocols.md): the caller opens a stream and closes
 * its write side without sending; the peer answers one length-prefixed frame of
 * 9 bytes, `version u8 = 1 | outstanding u32 BE | capacity u32 BE`, and closes.
 * `outstanding` is the peer's requests running or queued, `capacity` its slots.
 * A frame of another length or version is an InvalidMessageError.
 */
import { InvalidMessageError } from '../errors.js'
import { FrameReader, writeFrame } from '../wire/framing.js'
import { request } from '../wire/request.js'
import { serveWithDeadline } from '../wire/serve.js'
import {
  DEFAULT_PROBE_MAX_STREAMS, DEFAULT_PROBE_TIMEOUT_MS, LOAD_PROBE_FRAME_BYTES, LOAD_PROBE_PROTOCOL, LOAD_PROBE_VERSION
} from './scheduler-constants.js'
import type { StreamOpener } from '../wire/request.js'
import type { LocalLoad } from '../gossip/types.js'
import type { AbortOptions, Logger, Stream } from '@libp2p/interface'
import type { Registrar } from '@libp2p/interface-internal'

/** A peer's load as a probe answers it. */
export interface ProbedLoad {
  outstanding: number
  capacity: number
}

/** The 9-byte answer frame. */
export function encodeProbeAnswer (load: ProbedLoad): Uint8Array {
  const bytes = new Uint8Array(LOAD_PROBE_FRAME_BYTES)
  const view = new DataView(bytes.buffer)
  view.setUint8(0, LOAD_PROBE_VERSION)
  view.setUint32(1, Math.min(0xffffffff, Math.max(0, Math.round(load.outstanding))))
  view.setUint32(5, Math.min(0xffffffff, Math.max(0, Math.round(load.capacity))))
  return bytes
}

/** Decode an answer frame; InvalidMessageError when it is not one. */
export function decodeProbeAnswer (bytes: Uint8Array): ProbedLoad {
  if (bytes.length !== LOAD_PROBE_FRAME_BYTES) throw new InvalidMessageError(`load probe answer of ${bytes.length} bytes, expected ${LOAD_PROBE_FRAME_BYTES}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (view.getUint8(0) !== LOAD_PROBE_VERSION) throw new InvalidMessageError(`load probe answer version ${view.getUint8(0)}`)
  return { outstanding: view.getUint32(1), capacity: view.getUint32(5) }
}

/** Ask `peerId` for its load; rejects with DeadlineExceededError after `timeoutMs`. */
export async function probeLoad (opener: StreamOpener, peerId: string, options: AbortOptions & { timeoutMs?: number } = {}): Promise<ProbedLoad> {
  return request(opener, peerId, LOAD_PROBE_PROTOCOL, async (stream, signal) => {
    await stream.close({ signal })
    const bytes = await new FrameReader(stream, { maxFrameBytes: LOAD_PROBE_FRAME_BYTES }).expect('the load probe answer')
    return decodeProbeAnswer(bytes)
  }, { timeoutMs: options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS, what: 'load probe', signal: options.signal })
}

export interface LoadProbeHandlerComponents {
  registrar: Pick<Registrar, 'handle' | 'unhandle'>
  localLoad: Pick<LocalLoad, 'snapshot'>
  log: Logger
}

/** The serving side: answers every probe with this node's live work. */
export class LoadProbeHandler {
  private started = false

  constructor (private readonly components: LoadProbeHandlerComponents) {}

  async start (): Promise<void> {
    if (this.started) return
    await this.components.registrar.handle(LOAD_PROBE_PROTOCOL, this.handle, {
      maxInboundStreams: DEFAULT_PROBE_MAX_STREAMS,
      maxOutboundStreams: DEFAULT_PROBE_MAX_STREAMS
    })
    this.started = true
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    await this.components.registrar.unhandle(LOAD_PROBE_PROTOCOL)
  }

  readonly handle = async (stream: Stream): Promise<void> => {
    await serveWithDeadline(stream, async (signal) => {
      const work = this.components.localLoad.snapshot()
      await writeFrame(stream, encodeProbeAnswer({ outstanding: work.inFlight + work.queued, capacity: work.capacity }), { signal })
      await stream.close({ signal })
    }, { timeoutMs: DEFAULT_PROBE_TIMEOUT_MS, what: 'load probe', onError: (err) => { this.components.log('load probe failed: %s', err.message) } })
  }
}
