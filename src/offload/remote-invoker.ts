/**
 * The calling side of `/edge-mesh/infer/1.0.0`: one stream per request. The
 * request carries the time left until the caller's deadline; the reply's error
 * frame is rethrown as the named error the peer sent (`PeerBusyError`,
 * `ModelNotFoundError`, ...). The caller's signal and the deadline both abort
 * the stream; they surface as AbortError and DeadlineExceededError (`src/wire/request.ts`).
 */
import { DeadlineExceededError, ProtocolError } from '../errors.js'
import { FrameReader, writeFrame } from '../wire/framing.js'
import { request } from '../wire/request.js'
import { decodeResponse, encodeRequest, randomRequestId } from './codec.js'
import { DEFAULT_MAX_INFER_FRAME_BYTES, INFER_PROTOCOL } from './constants.js'
import { errorFromCode } from '../wire/error-codes.js'
import type { RemoteInvoker, ServedResult } from './types.js'
import type { TensorData } from '../model/types.js'
import type { AbortOptions, Stream } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'

export interface RemoteInvokerInit {
  /** Largest request sent and response accepted, bytes. @default 8 MiB */
  maxFrameBytes?: number
}

export interface RemoteInvokerComponents {
  connectionManager: Pick<ConnectionManager, 'openStream'>
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
    if (!(options.deadlineMs > 0)) throw new DeadlineExceededError('deadline passed before sending')
    const requestId = randomRequestId()
    // Encode before dialling, so invalid inputs fail without touching the network.
    const frame = encodeRequest({ requestId, deadlineMs: options.deadlineMs, modelId, inputs }, { maxFrameBytes })
    return request(components.connectionManager, peerId, INFER_PROTOCOL, async (stream, signal) => {
      // The time spent dialling is no longer the peer's to use.
      frame.setUint32(10, Math.max(1, Math.round(options.deadlineMs - (performance.now() - startedAt))))
      return exchange(stream, frame, requestId, maxFrameBytes, signal)
    }, { timeoutMs: options.deadlineMs, what: 'infer', signal: options.signal })
  }
}
