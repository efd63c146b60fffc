/**
 * The calling side of `/edge-mesh/infer/1.0.0`: one stream per request. The
 * request carries the time left until the caller's deadline; the reply's error
 * frame is rethrown as the named error the peer sent (`PeerBusyError`,
 * `ModelNotFoundError`, ...). The caller's signal and the deadline both abort
 * the stream; they surface as AbortError and DeadlineExceededError.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { deadline } from '../wire/deadline.js'
import { AbortError, DeadlineExceededError, InvalidMessageError, ProtocolError } from '../errors.js'
import { FrameReader, writeFrame } from '../wire/framing.js'
import { decodeResponse, encodeRequest, randomRequestId } from './codec.js'
import { DEFAULT_MAX_INFER_FRAME_BYTES, INFER_PROTOCOL } from './constants.js'
import { errorFromCode } from '../wire/error-codes.js'
import type { RemoteInvoker, ServedResult } from './types.js'
import type { TensorData } from '../model/types.js'
import type { AbortOptions, PeerId, Stream } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'

/** Longest delay timers honour. */
const MAX_TIMER_MS = 2 ** 31 - 1

export interface RemoteInvokerInit {
  /** Largest request sent and response accepted, bytes. @default 8 MiB */
  maxFrameBytes?: number
}

export interface RemoteInvokerComponents {
  connectionManager: Pick<ConnectionManager, 'openStream'>
}

function toPeerId (peerId: string): PeerId {
  try {
    return peerIdFromString(peerId)
  } catch {
    throw new InvalidMessageError(`not a peer id: ${peerId}`)
  }
}

function isAborted (signal?: AbortSignal): boolean {
  return signal?.aborted === true
}

/** Write the request, half-close, read and decode the single response frame. */
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

/** Create a `RemoteInvoker` that opens streams through the connection manager. */
export function createRemoteInvoker (components: RemoteInvokerComponents, init: RemoteInvokerInit = {}): RemoteInvoker {
  const maxFrameBytes = init.maxFrameBytes ?? DEFAULT_MAX_INFER_FRAME_BYTES
  return async (peerId: string, modelId: string, inputs: TensorData[], options: AbortOptions & { deadlineMs: number }): Promise<ServedResult> => {
    const startedAt = performance.now()
    if (isAborted(options.signal)) throw new AbortError('aborted before sending')
    if (!(options.deadlineMs > 0)) throw new DeadlineExceededError('deadline passed before sending')
    const requestId = randomRequestId()
    // Encode before dialling, so invalid inputs fail without touching the network.
    const frame = encodeRequest({ requestId, deadlineMs: options.deadlineMs, modelId, inputs }, { maxFrameBytes })
    const timer = deadline(options.deadlineMs, () => new DeadlineExceededError('deadline passed'))
    const expired = timer.signal
    const signal = options.signal == null ? expired : AbortSignal.any([options.signal, expired])
    let stream: Stream | undefined
    const onAbort = (): void => { stream?.abort(expired.aborted ? new DeadlineExceededError('deadline passed') : new AbortError('aborted by the caller')) }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      stream = await components.connectionManager.openStream(toPeerId(peerId), INFER_PROTOCOL, { signal })
      signal.throwIfAborted()
      // The time spent dialling is no longer the peer's to use.
      frame.setUint32(10, Math.max(1, Math.round(options.deadlineMs - (performance.now() - startedAt))))
      return await exchange(stream, frame, requestId, maxFrameBytes, signal)
    } catch (err: any) {
      if (stream?.status === 'open') stream.abort(err instanceof Error ? err : new Error(String(err)))
      if (isAborted(options.signal)) throw new AbortError('aborted by the caller')
      if (expired.aborted) throw new DeadlineExceededError(`no answer from ${peerId} within ${options.deadlineMs} ms`)
      throw err
    } finally {
      timer.clear()
      signal.removeEventListener('abort', onAbort)
    }
  }
}
