/**
 * Pure per-peer dial backoff: after a failed or dropped connection the next
 * dial waits `base`, then twice that, up to `cap`; a successful connection
 * resets it.
 */
export interface DialState {
  failures: number
  notBefore: number
}

export function canDial (state: DialState | undefined, now: number): boolean {
  return state == null || now >= state.notBefore
}

export function dialFailed (state: DialState | undefined, now: number, baseMs: number, capMs: number): DialState {
  const failures = (state?.failures ?? 0) + 1
  return { failures, notBefore: now + Math.min(capMs, baseMs * 2 ** (failures - 1)) }
}

