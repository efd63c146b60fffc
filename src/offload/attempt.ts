/**
 * Small async helpers of the client's attempt loop: running one attempt under
 * its own abort controller (linked to the request's), turning its promise into
 * an outcome that never rejects, and a queue of loop events the loop awaits
 * instead of polling or sleeping.
 */
import type { Choice } from './scheduler.js'
import type { ServedResult } from './types.js'

export type AttemptOutcome =
  | { ok: true, result: ServedResult }
  | { ok: false, error: Error }

/** One attempt of a request at one candidate. */
export interface Attempt {
  choice: Choice
  hedge: boolean
  startedAt: number
  controller: AbortController
  /** Settles, never rejects, when the attempt answers, fails or is aborted. */
  done: Promise<AttemptOutcome>
}

/** Anything thrown, as an Error. */
export function toError (err: unknown): Error {
  if (err instanceof Error) return err
  return new Error(String(err))
}

/**
 * Run `work` under a new controller that is aborted with the parent's reason
 * when the parent aborts. The outcome settles as soon as the attempt's signal
 * aborts, even if `work` ignores the signal.
 */
export function runAttempt (choice: Choice, hedge: boolean, startedAt: number, parent: AbortSignal,
  work: (signal: AbortSignal) => Promise<ServedResult>): Attempt {
  const controller = new AbortController()
  const signal = controller.signal
  const onParentAbort = (): void => { controller.abort(parent.reason) }
  if (parent.aborted) onParentAbort()
  else parent.addEventListener('abort', onParentAbort, { once: true })
  const done = new Promise<AttemptOutcome>(resolve => {
    const onAbort = (): void => { resolve({ ok: false, error: toError(signal.reason) }) }
    if (signal.aborted) { onAbort(); return }
    signal.addEventListener('abort', onAbort, { once: true })
    Promise.resolve().then(async () => work(signal)).then(
      result => { resolve({ ok: true, result }) },
      error => { resolve({ ok: false, error: toError(error) }) }
    ).finally(() => { signal.removeEventListener('abort', onAbort) })
  })
  void done.finally(() => { parent.removeEventListener('abort', onParentAbort) })
  return { choice, hedge, startedAt, controller, done }
}

/** A FIFO of events with an awaitable `next()`; the loop wakes only when something happened. */
export class EventQueue<E> {
  private readonly items: E[] = []
  private wake: (() => void) | undefined

  push (event: E): void {
    this.items.push(event)
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  async next (): Promise<E> {
    while (this.items.length === 0) {
      await new Promise<void>(resolve => { this.wake = resolve })
    }
    return this.items.shift() as E
  }
}
