/**
 * Who could run a request for a model, from this node's state and the gossiped
 * load of its peers (pure).
 *
 * **Where models are fetched.** A peer that announces the model (gossip
 * `models`) is a holder. A peer that does not announce it is a candidate only
 * when this node holds the model: if it is chosen, its infer handler answers
 * ModelNotFound or fetches the model from the requester (this node), which by
 * construction has it. This node, when it lacks the model, is a candidate only
 * when some peer announces it and a fetcher is available: the client then
 * fetches the model from those peers before running it locally. So a fetch
 * always has a source, and nobody is asked for a model no one has.
 */
import type { Candidate } from './scheduler.js'
import type { LocalWork, PeerLoad } from '../gossip/types.js'

export interface CandidateInput {
  modelId: string
  selfId: string
  /** This node's live work (the engine's counters). */
  local: LocalWork
  /** This node's CPU utilisation, 0..1 (from its last published report). @default 0 */
  localCpu?: number
  /** This node holds the model. */
  localHasModel: boolean
  /** This node can fetch models from peers. */
  canFetch: boolean
  /** Live gossiped reports of the peers. */
  peers: PeerLoad[]
  /** The clock of the peers' `receivedAt`, to give each candidate the age of its load figure. @default no ages */
  now?: number
}


function peerCandidate (p: PeerLoad, hasModel: boolean, now?: number): Candidate {
  const r = p.report
  const age = now == null ? {} : { ageMs: Math.max(0, now - p.receivedAt) }
  return { peerId: p.peerId, local: false, hasModel, inFlight: r.inFlight, queued: r.queued, capacity: r.capacity, cpu: r.cpu, training: r.training, ...age }
}

/** The candidates for one request; empty when no node holds the model. */
export function buildCandidates (input: CandidateInput): Candidate[] {
  const peers = input.peers.filter(p => p.peerId !== input.selfId && p.report.capacity > 0)
  const holders = peers.filter(p => p.report.models.includes(input.modelId))
  const out: Candidate[] = []
  if (input.localHasModel || (input.canFetch && holders.length > 0)) {
    const w = input.local
    out.push({
      peerId: input.selfId,
      local: true,
      hasModel: input.localHasModel,
      inFlight: w.inFlight,
      queued: w.queued,
      capacity: w.capacity,
      cpu: input.localCpu ?? 0,
      training: w.training
    })
  }
  for (const p of peers) {
    const hasModel = p.report.models.includes(input.modelId)
    if (hasModel || input.localHasModel) out.push(peerCandidate(p, hasModel, input.now))
  }
  return out
}
