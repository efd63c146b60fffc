/**
 * The serving side of one inbound stream with a deadline: the twin of
 * `request.ts` for handlers.
 *
 * Every handler (infer, model transfer, fedavg) needs the same shell: the
 * stream may stay open at most `timeoutMs` (then it is aborted, which ends a
 * blocked read or write at once), a failure aborts the stream and is
 * reported to the handler, the timer is released as soon as the stream is
 * done (`deadline.ts`), and the handler never rejects, so nothing a peer
 * sends escapes its own stream.
 */
import { DeadlineExceededError } from '../errors.js'
import { deadline } from './deadline.js'
import type { Stream } from '@libp2p/interface'

export interface ServeOptions {
  /** Longest the stream may stay open, ms. */
  timeoutMs: number
  /** What the stream serves, for the timeout error ("infer", "model transfer", "fedavg"). */
  what: string
  /** Called with the error when serving fails (before the stream is aborted). */
  onError?(err: Error): void
}

/** Run `serve` on `stream` within `options.timeoutMs`; never rejects. */
export async function serveWithDeadline (stream: Stream, serve: (signal: AbortSignal) => Promise<void>, options: ServeOptions): Promise<void> {
  const timer = deadline(options.timeoutMs, () => new DeadlineExceededError(`${options.what} stream open longer than ${options.timeoutMs} ms`))
  const signal = timer.signal
  const onTimeout = (): void => { stream.abort(signal.reason) }
  signal.addEventListener('abort', onTimeout, { once: true })
  try {
    await serve(signal)
  } catch (err: any) {
    const error = err instanceof Error ? err : new Error(String(err))
    options.onError?.(error)
    if (stream.status === 'open') stream.abort(error)
  } finally {
    timer.clear()
    signal.removeEventListener('abort', onTimeout)
  }
}
