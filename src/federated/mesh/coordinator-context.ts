/**
 * The factory of the {@link CoordinatorContext} the federated service hands
 * to `coordinate` for each run it coordinates: how a run's mesh grid is
 * opened (and registered so inbound PULL/PUSH find it), how it waits for
 * clients, and where summaries and data come from. Kept apart from the
 * service so the service class only holds lifecycle and state.
 */
import { createMeshGrid } from './mesh-grid.js'
import { meshSecAggTransport } from './secagg-transport.js'
import { exchange } from './protocol/wire.js'
import * as C from './protocol/constants.js'
import { waitForClients } from './service-helpers.js'
import { uplinkPolicyOf } from '../privacy/uplink-wire.js'
import { infoLogger, participantLogLine } from './round-log.js'
import type { FederatedBounds } from './bounds.js'
import type { HeadFeatures } from './head.js'
import type { ClientCounts } from './client-counts.js'
import type { CoordinatorContext } from './coordinator.js'
import type { LocalDatasets } from './local-datasets.js'
import type { MeshGrid } from './mesh-grid.js'
import type { Participant } from './participant.js'
import type { RunFiles } from './runs.js'
import type { FederatedComponents, FederatedInit } from './service-api.js'
import type { RunSummary } from './service-types.js'
import type { Logger } from '@libp2p/interface'

/** What the context is built from; `participant` and `datasets` are read when used, since the service replaces them at start. */
export interface CoordinatorContextInput {
  components: Pick<FederatedComponents, 'models' | 'loadView' | 'connectionManager'>
  init: Pick<FederatedInit, 'keepGlobals' | 'waitForClientsMs' | 'maxRecordBytes'>
  selfId: string
  files: RunFiles
  log: Logger
  bounds: FederatedBounds
  clientCounts: ClientCounts
  /** The open grid of each coordinated run, by run id. */
  grids: Map<string, MeshGrid>
  participant(): Participant
  datasets(): LocalDatasets
  features: HeadFeatures
  onRefused(reason: string): void
  changed(summary: RunSummary): void
}

export function createCoordinatorContext (input: CoordinatorContextInput): CoordinatorContext {
  const { components, init, selfId, files, log, bounds, clientCounts, grids } = input
  // This node's own clients train inside the grid, not through the participant: their lines go where the participant's do.
  const localParticipantInfo = infoLogger(log.newScope('participant'))
  return {
    models: components.models,
    files,
    log: log.newScope('coordinator'),
    info: infoLogger(log),
    keepGlobals: init.keepGlobals ?? C.DEFAULT_KEEP_GLOBALS,
    openGrid: (record) => {
      const participant = input.participant()
      const grid = createMeshGrid({
        runId: record.id,
        selfId,
        local: participant.counts().length > 0 ? participant : undefined,
        loadView: components.loadView,
        clientCounts: (peerId) => clientCounts.get(peerId),
        clientKeys: (peerId) => clientCounts.keys(peerId),
        announce: async (peerId, message, options) => (await exchange(components.connectionManager, peerId, message, undefined, 'accept', {
          timeoutMs: C.DEFAULT_ANNOUNCE_TIMEOUT_MS, signal: options.signal
        })).message,
        deadlineMs: record.spec.roundDeadlineMs ?? 60_000,
        maxExamples: bounds.maxExamples,
        head: record.head,
        onRefused: (reason) => { input.onRefused(reason) },
        uplink: uplinkPolicyOf(record.spec, (reason) => { input.onRefused(reason) }),
        onLocalUpdate: (round) => { localParticipantInfo('%s (this node\'s own client)', participantLogLine(round)) }
      })
      grids.set(record.id, grid)
      return grid
    },
    closeGrid: (record) => { grids.delete(record.id) },
    secAggTransport: (record, grid) => meshSecAggTransport({
      runId: record.id, selfId, connectionManager: components.connectionManager, grid, maxRecordBytes: init.maxRecordBytes
    }),
    waitForClients: async (grid, n, signal, onWaiting) => waitForClients({
      grid, n, signal, onWaiting, loadView: components.loadView, timeoutMs: init.waitForClientsMs ?? C.DEFAULT_WAIT_FOR_CLIENTS_MS,
      refresh: async () => clientCounts.refresh(components.loadView.peers(), signal)
    }),
    changed: (summary) => { input.changed(summary) },
    data: async (ref) => input.datasets().load(ref),
    features: async (head, ref, data, signal) => input.features.of(`eval-${ref}`, data, { ...head, examples: head.evalExamples }, { signal })
  }
}
