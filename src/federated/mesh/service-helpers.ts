/**
 * Small pieces of the federated service kept apart so they are tested alone:
 * waiting for a run's first clients (event-driven, bounded).
 */
import { DeadlineExceededError } from '../../errors.js'
import type { MeshGrid } from './mesh-grid.js'
import type { LoadView } from '../../gossip/types.js'

export interface WaitForClientsInput {
  grid: Pick<MeshGrid, 'clients'>
  n: number
  loadView: Pick<LoadView, 'addEventListener' | 'removeEventListener'>
  /** Learn client counts of new peers before counting. */
  refresh(): Promise<void>
  timeoutMs: number
  signal: AbortSignal
  /** Called with the clients counted at every check while fewer than `n` are there. */
  onWaiting?(have: number, n: number): void
}

/** How to give a run the clients it waits for. */
export const WAITING_FIX = 'start nodes with --data <spec> (e.g. --data mnist:0/2) that bootstrap from or trust this coordinator'

/** The `waiting` line of a run summary while it waits for clients. */
export function waitingForClients (have: number, n: number): string {
  return `waiting-for-clients: ${have} of ${n} clients joined (a client is one --data spec on a node that trains for this coordinator); ${WAITING_FIX}`
}

/** Resolve once the grid has `n` clients, re-checking on every load report; DeadlineExceededError after `timeoutMs`. */
export async function waitForClients (input: WaitForClientsInput): Promise<void> {
  const deadline = AbortSignal.timeout(input.timeoutMs)
  const signal = AbortSignal.any([input.signal, deadline])
  for (;;) {
    await input.refresh()
    const have = input.grid.clients().length
    if (have >= input.n) return
    if (signal.aborted) {
      if (input.signal.aborted) throw input.signal.reason
      throw new DeadlineExceededError(`only ${have} of ${input.n} clients joined within ${input.timeoutMs} ms; ${WAITING_FIX}`)
    }
    input.onWaiting?.(have, input.n)
    await new Promise<void>((resolve) => {
      const done = (): void => {
        input.loadView.removeEventListener('load:report', done)
        signal.removeEventListener('abort', done)
        resolve()
      }
      input.loadView.addEventListener('load:report', done)
      signal.addEventListener('abort', done)
    })
  }
}
