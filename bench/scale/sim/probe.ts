/**
 * The load-probe design study of the simulation (`knowledge: 'probe'`), not
 * implemented in the node: the two peers power of two choices would compare,
 * so the simulated client can ask them for their load before choosing.
 * Measured in this simulation, probing the two sampled peers left the p99 at
 * about 2x that of full knowledge at 100 nodes, no better than fresh figures
 * from answers, so the node does not probe (see docs/performance.md).
 */
import { DEFAULT_SCHEDULER_CONFIG, eligibleCandidates, freshPool } from '../../../src/offload/scheduler.js'
import type { Candidate, Random, SchedulerStats } from '../../../src/offload/scheduler.js'

/** Figures older than this are probed in the study, ms. */
export const PROBE_AFTER_MS = 50

/** Two distinct peers that hold the model, sampled as `powerOfTwo` samples them (all of them when at most `fullScanMax`). */
export function sampleHolders (candidates: Candidate[], stats: SchedulerStats, random: Random): Candidate[] {
  const config = { ...DEFAULT_SCHEDULER_CONFIG, ...stats.config }
  const holders = eligibleCandidates(candidates, stats).live.filter(c => c.hasModel && !c.local)
  if (holders.length <= config.fullScanMax) return holders
  const pool = freshPool(holders, config)
  if (pool.length <= 2) return pool
  const i = Math.min(pool.length - 1, Math.floor(random() * pool.length))
  let j = Math.min(pool.length - 2, Math.floor(random() * (pool.length - 1)))
  if (j >= i) j++
  return [pool[i], pool[j]]
}
