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
      throw new DeadlineExceededError(`only ${have} of ${input.n} clients joined within ${input.timeoutMs} ms`)
    }
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
