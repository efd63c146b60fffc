/**
 * One outbound request with a deadline: open a stream to a peer, run the
 * protocol's exchange on it, and make every way it can end a named error.
 *
 * Every request/response protocol of edge-mesh (infer, model fetch, fedavg)
 * needs the same shell around its exchange: the caller's signal and the
 * request's own deadline both abort the stream (so a blocked read or write
 * ends at once), the stream is aborted when the exchange fails, the timer is
 * released when the request ends (`deadline.ts`), and the outcome is
 * AbortError when the caller gave up, DeadlineExceededError when the time ran
 * out, otherwise the exchange's own error. This is that shell, written once.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { AbortError, DeadlineExceededError, InvalidMessageError } from '../errors.js'
import { deadline } from './deadline.js'
import type { AbortOptions, PeerId, Stream } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'

/** The opener of streams to peers, as protocol clients use it. */
export type StreamOpener = Pick<ConnectionManager, 'openStream'>

export interface RequestOptions extends AbortOptions {
  /** Longest the whole request may take (dial, exchange), ms. */
  timeoutMs: number
  /** What the request is, for error messages ("infer", "pull", "model fetch"). */
  what: string
}

/** The exchange run on the opened stream; it must honour `signal`. */
export type Exchange<T> = (stream: Stream, signal: AbortSignal) => Promise<T>

/** Parse a peer id, or throw InvalidMessageError naming it. */
export function toPeerId (peerId: PeerId | string): PeerId {
  if (typeof peerId !== 'string') return peerId
  try {
    return peerIdFromString(peerId)
  } catch {
    throw new InvalidMessageError(`not a peer id: ${peerId}`)
  }
}

/**
 * Open a stream to `peerId` on `protocol` and run `exchange` on it within
 * `options.timeoutMs`. Rejects with AbortError when `options.signal` aborts,
 * DeadlineExceededError when the deadline passes, InvalidMessageError when
 * the reply does not parse, otherwise with the exchange's error.
 */
export async function request<T> (opener: StreamOpener, peerId: PeerId | string, protocol: string, exchange: Exchange<T>, options: RequestOptions): Promise<T> {
  const { what, timeoutMs } = options
  const peer = toPeerId(peerId)
  const callerGaveUp = (): boolean => options.signal?.aborted === true
  if (callerGaveUp()) throw new AbortError(`${what} aborted before sending`)
  const timer = deadline(timeoutMs, () => new DeadlineExceededError(`${what} timed out`))
  const expired = timer.signal
  const signal = options.signal == null ? expired : AbortSignal.any([options.signal, expired])
  let stream: Stream | undefined
  const onAbort = (): void => { stream?.abort(expired.aborted ? new DeadlineExceededError(`${what} timed out`) : new AbortError(`${what} aborted`)) }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    stream = await opener.openStream(peer, protocol, { signal })
    signal.throwIfAborted()
    return await exchange(stream, signal)
  } catch (err: any) {
    if (stream?.status === 'open') stream.abort(err instanceof Error ? err : new Error(String(err)))
    if (callerGaveUp()) throw new AbortError(`${what} to ${peer.toString()} aborted`)
    if (expired.aborted) throw new DeadlineExceededError(`no answer to ${what} from ${peer.toString()} within ${timeoutMs} ms`)
    if (err instanceof SyntaxError) throw new InvalidMessageError(err.message)
    throw err
  } finally {
    timer.clear()
    signal.removeEventListener('abort', onAbort)
  }
}
