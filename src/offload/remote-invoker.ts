/**
 * The calling side of inference on a peer. By default every request to a
 * peer goes over one long-lived `/edge-mesh/infer/1.1.0` stream (a
 * `PipeSession`: opened on the first request, reused, reopened after a
 * failure, closed when idle or when the connection goes), with client-side
 * coalescing and uint8 narrowing of image-like int32 inputs. A peer that
 * does not speak 1.1.0 is remembered (`LEGACY_PEER_MEMORY_MS`) and served
 * over `/edge-mesh/infer/1.0.0`, one stream per request, as before.
 *
 * Either way the request carries the time left until the caller's deadline;
 * an error reply is rethrown as the named error the peer sent (`PeerBusyError`,
 * `ModelNotFoundError`, ...); the caller's signal and the deadline surface as
 * AbortError and DeadlineExceededError. Every 1.1.0 reply carries the
 * server's load: it is on the result (`serverLoad`), where the offload
 * service's load estimate reads it.
 */
import { AbortError, DeadlineExceededError, MessageTooLargeError, ProtocolError } from '../errors.js'
import { FrameReader, writeFrame } from '../wire/framing.js'
import { request, toPeerId } from '../wire/request.js'
import { deadline } from '../wire/deadline.js'
import { decodeResponse, encodeRequest, randomRequestId } from './codec.js'
import {
  DEFAULT_COALESCE, DEFAULT_MAX_COALESCE_REQUESTS, DEFAULT_MAX_INFER_FRAME_BYTES, DEFAULT_MAX_PEER_INFLIGHT_BYTES, DEFAULT_NARROW_UINT8, DEFAULT_PIPE_IDLE_TIMEOUT_MS,
  DEFAULT_PIPE_MAX_INFLIGHT, INFER_PIPE_PROTOCOL, INFER_PROTOCOL, LEGACY_PEER_MEMORY_MS
} from './constants.js'
import { errorFromCode } from '../wire/error-codes.js'
import { requestFrameBytes, toWireInputs, wireKey } from './pipe-codec.js'
import { PipeSession } from './pipe-session.js'
import type { PipeCall } from './pipe-session.js'
import type { RemoteInvoker, ServedResult } from './types.js'
import type { TensorData } from '../model/types.js'
import type { AbortOptions, Stream } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'

export interface RemoteInvokerInit {
  /** Largest request sent and response accepted, bytes. @default 8 MiB */
  maxFrameBytes?: number
  /** `auto`: 1.1.0, falling back to 1.0.0 per peer; `1.0.0`: always one stream per request. @default 'auto' */
  protocol?: 'auto' | '1.0.0'
  /** Coalesce concurrent requests to a peer into one frame (see `DEFAULT_COALESCE`). @default true */
  coalesce?: boolean
  /** Most requests per coalesced frame. @default 16 */
  maxCoalesceRequests?: number
  /** On 1.1.0, send int32 inputs whose values all fit 0..255, and float32 inputs whose values are all k / 255, one byte per value. @default true */
  narrowUint8?: boolean
  /** Requests in flight per 1.1.0 stream; more wait for a slot. @default 64 */
  maxInFlight?: number
  /** Request-frame bytes unanswered per 1.1.0 stream (the peer's budget per caller); more wait. @default 4 MiB */
  maxInFlightBytes?: number
  /** A 1.1.0 stream with nothing in flight this long is closed, ms. @default 60000 */
  idleTimeoutMs?: number
}

export interface RemoteInvokerComponents {
  connectionManager: Pick<ConnectionManager, 'openStream'>
}

/** A remote invoker that keeps streams: `close()` ends them (tests, benchmarks, shutdown). */
export interface PipelinedInvoker extends RemoteInvoker {
  close(): void
  /** Open 1.1.0 sessions (for tests and status). */
  sessions(): number
}

/** 1.0.0: write the request, half-close, read and decode the single response frame. */
async function exchange (stream: Stream, frame: ReturnType<typeof encodeRequest>, requestId: bigint, maxFrameBytes: number, signal: AbortSignal): Promise<ServedResult> {
  await writeFrame(stream, frame, { signal })
  await stream.close({ signal })
  const bytes = await new FrameReader(stream, { maxFrameBytes }).expect('the response')
  const response = decodeResponse(bytes, { maxFrameBytes })
  if (response.requestId !== requestId) throw new ProtocolError('response names another request')
  if (response.type === 'error') throw errorFromCode(response.code, response.message)
  const { outputs, queueMs, computeMs, batchSize } = response
  return { outputs, queueMs, computeMs, batchSize }
}

/** One request over `/edge-mesh/infer/1.0.0` (one stream). */
async function invokeLegacy (opener: RemoteInvokerComponents['connectionManager'], maxFrameBytes: number, peerId: string, modelId: string, inputs: TensorData[], options: AbortOptions & { deadlineMs: number }): Promise<ServedResult> {
  const startedAt = performance.now()
  const requestId = randomRequestId()
  // Encode before dialling, so invalid inputs fail without touching the network.
  const frame = encodeRequest({ requestId, deadlineMs: options.deadlineMs, modelId, inputs }, { maxFrameBytes })
  return await request(opener, peerId, INFER_PROTOCOL, async (stream, signal) => {
    // The time spent dialling is no longer the peer's to use.
    frame.setUint32(10, Math.max(1, Math.round(options.deadlineMs - (performance.now() - startedAt))))
    return await exchange(stream, frame, requestId, maxFrameBytes, signal)
  }, { timeoutMs: options.deadlineMs, what: 'infer', signal: options.signal })
}

/** `work`, or an AbortError as soon as `signal` aborts (the work itself goes on: others may wait on it). */
async function untilAborted<T> (work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal == null) return await work
  let onAbort = (): void => {}
  const aborted = new Promise<never>((resolve, reject) => {
    onAbort = () => { reject(new AbortError('infer aborted')) }
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([work, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** Create a `RemoteInvoker` over the connection manager's streams. */
export function createRemoteInvoker (components: RemoteInvokerComponents, init: RemoteInvokerInit = {}): PipelinedInvoker {
  const maxFrameBytes = init.maxFrameBytes ?? DEFAULT_MAX_INFER_FRAME_BYTES
  const narrow = init.narrowUint8 ?? DEFAULT_NARROW_UINT8
  const sessions = new Map<string, PipeSession>()
  const opening = new Map<string, Promise<PipeSession | undefined>>()
  /** Peers that refused 1.1.0, until when (ms since epoch). */
  const legacy = new Map<string, number>()
  const opener = components.connectionManager

  const open = async (peerId: string, deadlineMs: number): Promise<PipeSession | undefined> => {
    // The first caller's deadline bounds the dial for everyone waiting on it.
    const timer = deadline(deadlineMs, () => new DeadlineExceededError(`no infer stream to ${peerId} within ${deadlineMs} ms`))
    try {
      const stream = await opener.openStream(toPeerId(peerId), INFER_PIPE_PROTOCOL, { signal: timer.signal })
      const session: PipeSession = new PipeSession(stream, {
        maxFrameBytes,
        maxInFlight: init.maxInFlight ?? DEFAULT_PIPE_MAX_INFLIGHT,
        maxInFlightBytes: init.maxInFlightBytes ?? DEFAULT_MAX_PEER_INFLIGHT_BYTES,
        coalesce: init.coalesce ?? DEFAULT_COALESCE,
        maxCoalesceRequests: init.maxCoalesceRequests ?? DEFAULT_MAX_COALESCE_REQUESTS,
        idleTimeoutMs: init.idleTimeoutMs ?? DEFAULT_PIPE_IDLE_TIMEOUT_MS,
        onEnd: () => { if (sessions.get(peerId) === session) sessions.delete(peerId) }
      })
      sessions.set(peerId, session)
      return session
    } catch (err: any) {
      if (err?.name !== 'UnsupportedProtocolError') throw timer.signal.aborted ? timer.signal.reason : err
      legacy.set(peerId, Date.now() + LEGACY_PEER_MEMORY_MS)
      return undefined
    } finally {
      timer.clear()
    }
  }

  /** The peer's open session, a new one, or undefined for a 1.0.0-only peer. */
  const sessionFor = async (peerId: string, deadlineMs: number): Promise<PipeSession | undefined> => {
    if ((legacy.get(peerId) ?? 0) > Date.now()) return undefined
    const current = sessions.get(peerId)
    if (current?.open === true) return current
    let pending = opening.get(peerId)
    if (pending == null) {
      pending = open(peerId, deadlineMs).finally(() => { opening.delete(peerId) })
      opening.set(peerId, pending)
    }
    return await pending
  }

  const invoke = async (peerId: string, modelId: string, inputs: TensorData[], options: AbortOptions & { deadlineMs: number }): Promise<ServedResult> => {
    const aborted = (): boolean => options.signal?.aborted === true
    if (!(options.deadlineMs > 0)) throw new DeadlineExceededError('deadline passed before sending')
    if (aborted()) throw new AbortError('infer aborted before sending')
    if (init.protocol === '1.0.0') return await invokeLegacy(opener, maxFrameBytes, peerId, modelId, inputs, options)
    // Prepare before dialling, so invalid inputs fail without touching the network.
    const wire = toWireInputs(inputs, narrow)
    const size = requestFrameBytes(modelId, [wire])
    if (size > maxFrameBytes) throw new MessageTooLargeError(`frame of ${size} bytes exceeds ${maxFrameBytes}`)
    const call: PipeCall = { modelId, key: wireKey(modelId, wire), inputs: wire, rows: inputs[0]?.shape[0] ?? 1, frameBytes: size }
    // The common case, a session already open: no waiting, so no race with the signal and no time spent.
    const current = sessions.get(peerId)
    if (current?.open === true) return await current.call(call, { signal: options.signal, deadlineMs: options.deadlineMs })
    const startedAt = performance.now()
    let session: PipeSession | undefined
    try {
      session = await untilAborted(sessionFor(peerId, options.deadlineMs), options.signal)
    } catch (err) {
      if (aborted()) throw new AbortError(`infer to ${peerId} aborted`)
      throw err
    }
    const left = Math.floor(options.deadlineMs - (performance.now() - startedAt))
    if (left <= 0) throw new DeadlineExceededError(`no answer to infer from ${peerId} within ${options.deadlineMs} ms`)
    if (session == null) return await invokeLegacy(opener, maxFrameBytes, peerId, modelId, inputs, { ...options, deadlineMs: left })
    return await session.call(call, { signal: options.signal, deadlineMs: left })
  }

  return Object.assign(invoke, {
    close: () => { for (const s of [...sessions.values()]) s.close() },
    sessions: () => sessions.size
  })
}
