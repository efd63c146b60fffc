/**
 * The federated service's side of run gossip on `/edge-mesh/fedruns/1`: the
 * gossipsub validator, the receiving of other coordinators' run summaries
 * and the publishing of this node's. Kept apart from the service so the
 * service only wires these to pubsub; the encoding lives in `run-gossip.ts`.
 */
import { TopicValidatorResult } from '@libp2p/gossipsub'
import * as C from './protocol/constants.js'
import { decodeRunAnnouncement, encodeRunAnnouncement, fromRunCoordinator } from './run-gossip.js'
import type { KnownRuns } from './run-gossip.js'
import type { RunPubSub } from './service-api.js'
import type { RunSummary } from './service-types.js'
import type { Message } from '@libp2p/gossipsub'
import type { Logger, PeerId } from '@libp2p/interface'

/** gossipsub validator of run summaries: malformed ones and ones not from the coordinator their id binds to are rejected. */
export function validateRunMessage (_peer: PeerId, message: Message): TopicValidatorResult {
  if (message.type !== 'signed') return TopicValidatorResult.Reject
  try {
    const a = decodeRunAnnouncement(message.data)
    return fromRunCoordinator(message.from.toString(), a) ? TopicValidatorResult.Accept : TopicValidatorResult.Reject
  } catch {
    return TopicValidatorResult.Reject
  }
}

/** Record a run summary another node gossiped in `known`; other topics, own and undecodable messages are ignored. */
export function receiveRunMessage (known: KnownRuns, selfId: string, message: Message): void {
  if (message.topic !== C.FEDRUNS_TOPIC || message.type !== 'signed') return
  const from = message.from.toString()
  if (from === selfId) return
  try {
    known.apply(from, decodeRunAnnouncement(message.data))
  } catch {}
}

/** Publish an own run's summary with sequence number `seq`; failures are logged, never thrown. */
export function publishRunSummary (pubsub: RunPubSub, log: Logger, seq: number, summary: RunSummary): void {
  try {
    const bytes = encodeRunAnnouncement({ seq, run: summary })
    pubsub.publish(C.FEDRUNS_TOPIC, bytes).catch((err: any) => { log.trace('run summary not published: %s', err?.message) })
  } catch (err: any) {
    log.error('run summary not publishable: %s', err?.message)
  }
}
