/**
 * Small pieces of the federated service kept apart so they are tested alone:
 * which clients of an experiment are byzantine, and waiting for a run's
 * first clients (event-driven, bounded).
 */
import { DeadlineExceededError } from '../../errors.js'
import { deriveSeed } from '../rng.js'
import type { MeshGrid } from './mesh-grid.js'
import type { AttackSpec } from './participant.js'
import type { RunSpec } from './runs.js'
import type { LoadView } from '../../gossip/types.js'

function hash (text: string, seed: number): number {
  let h = deriveSeed(seed, 7) ^ 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return (h >>> 0) / 2 ** 32
}

/**
 * The attack of `clientId` in a run: clients named in `byzantine.clients`
 * (by client id or peer id), else a seeded pseudo-random `fraction` of them.
 */
export function attackFor (spec: RunSpec, clientId: string): AttackSpec | undefined {
  const b = spec.byzantine
  if (b === undefined) return undefined
  const peerId = clientId.slice(0, clientId.lastIndexOf('#'))
  const named = b.clients?.includes(clientId) === true || b.clients?.includes(peerId) === true
  const drawn = b.fraction !== undefined && hash(clientId, spec.seed ?? 0) < b.fraction
  return named || drawn ? { name: b.attack as AttackSpec['name'], scale: b.scale, noiseStd: b.noiseStd } : undefined
}

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
