/**
 * The request dispatch of the federated service's `/edge-mesh/fedavg/1.0.0`
 * handler: which message goes to the participant, to a coordinated run's
 * grid, or to run control, and which need a trusted sender. Kept apart from
 * the service so the protocol's surface reads in one place.
 */
import { ProtocolError, UntrustedCoordinatorError, UntrustedPeerError } from '../../errors.js'
import { encodedWeightRecordSize } from '../weights/codec.js'
import { parseRunSpec } from './runs.js'
import type { MeshGrid } from './mesh-grid.js'
import type { Participant } from './participant.js'
import type { SecAggParticipant } from './secagg-participant.js'
import type { Dispatch } from './protocol/handler.js'
import type { FedMessage } from './protocol/messages.js'
import type { RunSpec } from './runs.js'
import type { StartedRun } from './service-api.js'
import type { WeightRecord } from '../../model/types.js'
import type { AbortOptions } from '@libp2p/interface'

/** What the dispatch asks of the service. */
export interface DispatchHost {
  trusts(peerId: string): boolean
  /** Count a refusal by `reason` and throw `err`. */
  refuse(reason: string, err: Error): never
  participant(): Participant
  /** The participant's secure aggregation sessions (types 20-27). */
  secagg(): SecAggParticipant
  /** The grid of a run this node coordinates; RunNotFoundError otherwise. */
  gridOf(runId: string): MeshGrid
  startLocal(spec: RunSpec, options: AbortOptions): Promise<StartedRun>
  onCancel(runId: string, from: string): Promise<void>
}

export function createDispatch (host: DispatchHost): Dispatch {
  return async ({ message, record }, ctx) => {
    const reply = (m: FedMessage, r?: WeightRecord): { message: FedMessage, record?: WeightRecord } => ({ message: m, record: r })
    switch (message.type) {
      case 'hello':
        if (!host.trusts(ctx.from)) host.refuse('untrusted_hello', new UntrustedCoordinatorError('this node does not train for runs you coordinate'))
        return reply({ type: 'hello-ok', clients: host.participant().counts(), keys: host.participant().dataKeys() })
      case 'announce':
        if (!host.trusts(ctx.from)) host.refuse('untrusted_announce', new UntrustedCoordinatorError('this node does not train for runs you coordinate'))
        return reply(await host.participant().accept(message, ctx.from, { signal: ctx.signal }))
      case 'pull': {
        const weights = host.gridOf(message.runId).weightsFor(message.version)
        return reply({ type: 'weights', runId: message.runId, version: message.version, weightBytes: encodedWeightRecordSize(weights) }, weights)
      }
      case 'push':
        host.gridOf(message.runId).deliver(ctx.from, message, record as WeightRecord, ctx.bytesIn)
        return reply({ type: 'ack' })
      case 'start': {
        if (!host.trusts(ctx.from)) host.refuse('untrusted_start', new UntrustedPeerError('this node coordinates runs only for peers it trusts'))
        const started = await host.startLocal(parseRunSpec(message.spec), { signal: ctx.signal })
        return reply({ type: 'started', runId: started.id, coordinator: started.coordinator })
      }
      case 'secagg-setup':
      case 'secagg-neighbours':
      case 'secagg-inbox':
      case 'secagg-unmask': {
        if (!host.trusts(ctx.from)) host.refuse('untrusted_secagg', new UntrustedCoordinatorError('this node does not train for runs you coordinate'))
        const { message: m, record: r } = await host.secagg().handle(message, ctx.from, { signal: ctx.signal })
        return reply(m, r)
      }
      case 'cancel':
        await host.onCancel(message.runId, ctx.from)
        return reply({ type: 'ack' })
      default:
        throw new ProtocolError(`${message.type} is not a request`)
    }
  }
}
