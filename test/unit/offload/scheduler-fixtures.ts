/** Shared fixtures of the scheduler and policy tests. */
import { mulberry32 } from '../../../src/model/random.js'
import type { Candidate, SchedulerStats } from '../../../src/offload/scheduler.js'

export function cand (peerId: string, over: Partial<Candidate> = {}): Candidate {
  return { peerId, local: false, hasModel: true, inFlight: 0, queued: 0, capacity: 1, cpu: 0, training: false, ...over }
}

export function stats (over: Partial<SchedulerStats> = {}): SchedulerStats {
  return { latencyMs: new Map(), outstanding: new Map(), backedOff: new Set(), tried: new Set(), ...over }
}

/** A deterministic random sequence (mulberry32). */
export const seeded = mulberry32
