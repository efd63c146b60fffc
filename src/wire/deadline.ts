/**
 * A deadline as an AbortSignal that is released when the work ends.
 *
 * `AbortSignal.timeout(ms)` keeps its timer, and every listener left on the
 * signal (and what those listeners hold, such as a finished stream) alive
 * until it fires. On a busy node that is thousands of finished streams held
 * for seconds. `deadline(ms)` fires the same way, but `clear()` (call it in
 * `finally`) drops the timer at once.
 */

/** Longest delay `setTimeout` honours; larger values would fire at once. */
export const MAX_TIMER_MS = 2_147_483_647

export interface Deadline {
  readonly signal: AbortSignal
  /** Release the timer; the signal stays as it is. */
  clear(): void
}

/** A signal that aborts with `reason()` after `ms` milliseconds, unless cleared first. */
export function deadline (ms: number, reason: () => Error): Deadline {
  const controller = new AbortController()
  const timer = setTimeout(() => { controller.abort(reason()) }, Math.max(0, Math.min(ms, MAX_TIMER_MS)))
  return { signal: controller.signal, clear: () => { clearTimeout(timer) } }
}
