/**
 * The serving side of one `/edge-mesh/fedavg/1.0.0` stream: read the request
 * (and its weight record), let `dispatch` answer it, write the reply (and its
 * record) with backpressure, close. Every stream has a timeout that aborts
 * it. Any failure the peer should hear about (malformed bytes, a refused
 * update, an unknown run) is answered with an error message; nothing a peer
 * sends can make the handler throw past its own stream.
 */
import { serveWithDeadline } from '../../../wire/serve.js'
import { errorMessage } from './errors.js'
import { MessageReader, readMessage, writeMessage } from './wire.js'
import type { Received, WireLimits } from './wire.js'
import type { FedMessage } from './messages.js'
import type { WeightRecord } from '../../../model/types.js'
import type { Logger, Stream } from '@libp2p/interface'

/** Errors of a peer's bytes that deserve an error reply rather than a bare abort. */
const WIRE_ERRORS = new Set(['InvalidMessageError', 'MessageTooLargeError', 'ProtocolError'])

/** Who sent the request and how long the answer may take. */
export interface RequestContext {
  /** Peer id of the remote end. */
  from: string
  signal: AbortSignal
  /** Bytes the request took on the wire. */
  bytesIn: number
}

/** Answer one request. Throwing answers with an error message. */
export type Dispatch = (request: Received, ctx: RequestContext) => Promise<{ message: FedMessage, record?: WeightRecord }>

export interface ServeOptions extends WireLimits {
  timeoutMs: number
  log: Logger
  /** Called with the bytes of the reply once it is written. */
  onReplied?(request: FedMessage, bytesOut: number): void
}

async function answer (stream: Stream, from: string, dispatch: Dispatch, signal: AbortSignal, options: ServeOptions): Promise<{ request?: FedMessage, reply: FedMessage, record?: WeightRecord }> {
  const reader = new MessageReader(stream, options)
  let request: Received
  try {
    request = await readMessage(reader, 'the request')
  } catch (err: any) {
    if (signal.aborted || !WIRE_ERRORS.has(err?.name)) throw err
    options.log('malformed request from %s: %s', from, err.message)
    return { reply: errorMessage(err) }
  }
  try {
    const { message, record } = await dispatch(request, { from, signal, bytesIn: reader.bytesRead })
    return { request: request.message, reply: message, record }
  } catch (err: any) {
    if (signal.aborted) throw err
    options.log('%s from %s refused: %s: %s', request.message.type, from, err?.name, err?.message)
    return { request: request.message, reply: errorMessage(err) }
  }
}

/** Serve one inbound stream; never rejects. */
export async function serveStream (stream: Stream, from: string, dispatch: Dispatch, options: ServeOptions): Promise<void> {
  await serveWithDeadline(stream, async (signal) => {
    const { request, reply, record } = await answer(stream, from, dispatch, signal, options)
    const bytesOut = await writeMessage(stream, reply, record, { ...options, signal })
    await stream.close({ signal })
    if (request !== undefined) options.onReplied?.(request, bytesOut)
  }, { timeoutMs: options.timeoutMs, what: 'fedavg', onError: (err) => { options.log('fedavg stream from %s failed: %s', from, err.message) } })
}
