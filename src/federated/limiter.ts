/**
 * A tiny abortable concurrency limiter: at most `limit` tasks hold a slot,
 * the rest wait in FIFO order. Waiting tasks leave the queue when their
 * signal aborts.
 */
import { AbortError } from '../errors.js'
import type { AbortOptions } from '@libp2p/interface'

export interface Limiter {
  /** Run `task` when a slot is free. */
  run<T>(task: () => Promise<T>, options?: AbortOptions): Promise<T>
  /** Tasks running now. */
  readonly active: number
}

/** Create a limiter allowing `limit` concurrent tasks. */
export function createLimiter (limit: number): Limiter {
  let active = 0
  const waiting: Array<() => void> = []
  const acquire = async (options: AbortOptions): Promise<void> => {
    options.signal?.throwIfAborted()
    if (active < limit) {
      active++
      return
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = waiting.indexOf(grant)
        if (i >= 0) waiting.splice(i, 1)
        reject(options.signal?.reason ?? new AbortError('aborted while waiting for a training slot'))
      }
      const grant = (): void => {
        options.signal?.removeEventListener('abort', onAbort)
        active++
        resolve()
      }
      waiting.push(grant)
      options.signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
  const release = (): void => {
    active--
    waiting.shift()?.()
  }
  return {
    async run<T>(task: () => Promise<T>, options: AbortOptions = {}): Promise<T> {
      await acquire(options)
      try {
        return await task()
      } finally {
        release()
      }
    },
    get active () { return active }
  }
}
