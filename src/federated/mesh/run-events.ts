/**
 * The events of the federated service's own runs: from one summary to the
 * next, which `round:aggregated`, `run:finished` or `run:failed` events are
 * due. Kept apart from the service so what is announced, and once only,
 * reads in one place; the service holds the instance (and so its state).
 */
import type { FederatedEvents, RunSummary } from './service-types.js'
import type { TypedEventEmitter } from 'main-event'

export class RunEventAnnouncer {
  /** Rounds and state of each own run already announced as events. */
  private readonly announced = new Map<string, { rounds: number, state: RunSummary['state'] }>()

  constructor (private readonly emitter: Pick<TypedEventEmitter<FederatedEvents>, 'safeDispatchEvent'>) {}

  /** Dispatch the events of what changed in an own run since the last call. */
  announce (summary: RunSummary): void {
    const before = this.announced.get(summary.id) ?? { rounds: summary.completedRounds, state: 'running' }
    this.announced.set(summary.id, { rounds: summary.completedRounds, state: summary.state })
    for (const round of summary.history) {
      if (round.round > before.rounds) this.emitter.safeDispatchEvent('round:aggregated', { detail: { runId: summary.id, round } })
    }
    if (summary.state === before.state) return
    if (summary.state === 'completed') this.emitter.safeDispatchEvent('run:finished', { detail: summary })
    else if (summary.state !== 'running') this.emitter.safeDispatchEvent('run:failed', { detail: summary })
  }
}
