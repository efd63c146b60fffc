/**
 * Building the federated service's {@link Participant}: its transport to a
 * coordinator (fetch the base model, PULL the global weights, PUSH an
 * update over `/edge-mesh/fedavg/1.0.0`) and its options. Kept apart from
 * the service, which rebuilds the participant at start with its clients.
 */
import { ProtocolError } from '../../errors.js'
import { encodedWeightRecordSize } from '../weights/codec.js'
import { parseByzantine } from './byzantine.js'
import { Participant } from './participant.js'
import { exchange } from './protocol/wire.js'
import * as C from './protocol/constants.js'
import type { FederatedBounds } from './bounds.js'
import type { HeadFeatures } from './head.js'
import type { PushMessage } from './protocol/messages.js'
import type { FederatedComponents, FederatedInit } from './service-api.js'
import type { Dataset, WeightRecord } from '../../model/types.js'
import type { AbortOptions, Logger } from '@libp2p/interface'

export interface ParticipantInput {
  clients: Dataset[]
  components: Pick<FederatedComponents, 'models' | 'localLoad' | 'connectionManager'>
  init: Pick<FederatedInit, 'byzantine' | 'maxRecordBytes'>
  bounds: FederatedBounds
  /** Frozen bases and features of head runs. */
  features?: HeadFeatures
  /** Make a model available: loaded already, or fetched from `from` and the peers announcing it. */
  ensureModel(modelId: string, from: string[], options: AbortOptions): Promise<void>
  onRefused(bound: string): void
  /** The service's logger; the participant logs under its own scope. */
  log: Logger
}

export function createParticipant (input: ParticipantInput): Participant {
  const { components, init } = input
  return new Participant({
    clients: input.clients,
    runtime: components.models,
    localLoad: components.localLoad,
    ensureModel: async (id, coordinator, options) => input.ensureModel(id, [coordinator], options),
    pull: async (coordinator, runId, version, options) => pull(components.connectionManager, init.maxRecordBytes, coordinator, runId, version, options),
    push: async (coordinator, header, weights, options) => push(components.connectionManager, init.maxRecordBytes, coordinator, header, weights, options),
    bounds: input.bounds,
    features: input.features,
    byzantine: typeof init.byzantine === 'string' ? parseByzantine(init.byzantine) : init.byzantine,
    onRefused: (bound) => { input.onRefused(bound) },
    log: input.log.newScope('participant')
  })
}

type Opener = FederatedComponents['connectionManager']

async function pull (connectionManager: Opener, maxRecordBytes: number | undefined, coordinator: string, runId: string, version: number, options: AbortOptions): Promise<WeightRecord> {
  const { record } = await exchange(connectionManager, coordinator, { type: 'pull', runId, version }, undefined, 'weights', {
    timeoutMs: C.DEFAULT_TRANSFER_TIMEOUT_MS, maxRecordBytes, signal: options.signal
  })
  if (record === undefined) throw new ProtocolError('weights reply without a weight record')
  return record
}

async function push (connectionManager: Opener, maxRecordBytes: number | undefined, coordinator: string, header: Omit<PushMessage, 'type' | 'weightBytes'>, weights: WeightRecord, options: AbortOptions): Promise<void> {
  await exchange(connectionManager, coordinator, { type: 'push', ...header, weightBytes: encodedWeightRecordSize(weights) }, weights, 'ack', {
    timeoutMs: C.DEFAULT_TRANSFER_TIMEOUT_MS, maxRecordBytes, signal: options.signal
  })
}
