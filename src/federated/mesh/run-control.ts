/**
 * The federated service's run control: forwarding a new run with START to a
 * trusted seed, and cancelling a run this node coordinates (stop it, record
 * it `cancelled`, tell the peers it asked to train). Kept apart from the
 * service, which decides who may START or CANCEL and holds the runs.
 */
import { RunCancelledError } from '../../errors.js'
import { exchange } from './protocol/wire.js'
import * as C from './protocol/constants.js'
import type { MeshGrid } from './mesh-grid.js'
import type { RunRecordFile, RunSpec } from './runs.js'
import type { FederatedComponents, StartedRun } from './service-api.js'
import type { RunSummary } from './service-types.js'
import type { TrustPolicy } from './trust.js'
import type { AbortOptions, Logger } from '@libp2p/interface'

/** A run this node coordinates (or lists from disk). */
export interface OwnRun {
  record?: RunRecordFile
  summary: RunSummary
  controller: AbortController
  saving: Promise<void>
  /** Settles when the run's coordination ends (resolved at once for finished runs). */
  done: Promise<void>
}

/**
 * The seed to forward a run to: a peer trusted by name or bootstrap pinning
 * that is in the load table as a seed (lowest peer id first). The role alone
 * makes no peer a coordinator.
 */
export function trustedSeed (loadView: FederatedComponents['loadView'], trust: TrustPolicy): string | undefined {
  return loadView.peers()
    .filter((p) => p.report.role === 'seed' && trust.peers.has(p.peerId))
    .map((p) => p.peerId).sort()[0]
}

/**
 * Ask `seed` to coordinate the run; undefined when it did not take it (the
 * caller then coordinates it itself). Errors no other coordinator would
 * avoid are rethrown.
 */
export async function forwardToSeed (connectionManager: FederatedComponents['connectionManager'], seed: string, spec: RunSpec, log: Logger, options: AbortOptions): Promise<StartedRun | undefined> {
  try {
    const { message } = await exchange(connectionManager, seed, { type: 'start', spec: spec as unknown as Record<string, unknown> }, undefined, 'started', {
      timeoutMs: C.DEFAULT_ANNOUNCE_TIMEOUT_MS, signal: options.signal
    })
    return { id: message.runId, coordinator: message.coordinator }
  } catch (err: any) {
    if (['InvalidConfigError', 'ModelNotFoundError', 'AbortError', 'LimitExceededError'].includes(err?.name)) throw err
    log('seed %s did not take the run (%s), coordinating it here', seed, err?.message)
    return undefined
  }
}

export interface CancelOwnInput {
  connectionManager: FederatedComponents['connectionManager']
  /** The run's grid, looked up before the run is aborted (closing the run removes it). */
  grid?: MeshGrid
  log: Logger
  /** Save and publish the run's summary. */
  changed(summary: RunSummary): void
}

/** Stop a run this node coordinates, tell the peers it asked to train, and wait until it is saved `cancelled`. */
export async function cancelOwnRun (run: OwnRun, input: CancelOwnInput): Promise<void> {
  if (run.summary.state !== 'running') return
  const { grid, connectionManager, log } = input
  run.controller.abort(new RunCancelledError(`run ${run.summary.id} was cancelled`))
  await run.done
  if (run.summary.state === 'running') {
    // Cancelled before coordination started (e.g. while resuming): record it here.
    run.summary.state = 'cancelled'
    run.summary.error = { name: 'RunCancelledError', message: `run ${run.summary.id} was cancelled` }
    run.summary.finishedAt = Date.now()
    input.changed(run.summary)
  }
  await run.saving
  await Promise.all([...(grid?.askedPeers() ?? [])].map(async (peerId) => {
    try {
      await exchange(connectionManager, peerId, { type: 'cancel', runId: run.summary.id }, undefined, 'ack', { timeoutMs: C.DEFAULT_CONTROL_TIMEOUT_MS })
    } catch (err: any) {
      log('CANCEL of %s to %s failed: %s', run.summary.id, peerId, err?.message)
    }
  }))
}
