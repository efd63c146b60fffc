/**
 * Phase 4, the scheduling benchmark's scenario (`bench/offload/scheduling.ts`)
 * in the discrete-event simulation: the same four serving nodes with fixed
 * service times, one 4x slower, and one requester at 70 % of the capacity,
 * once per policy (random, round robin, least-outstanding, the edge-mesh
 * scheduler) on the same arrivals, for three seeds. The policies are the real
 * `chooseByPolicy`; what the machine does to timers and CPU is left out, so
 * these figures do not move with the machine's load, unlike the benchmark's.
 */
import { PRESETS } from '../../src/node/presets.js'
import { round2, round3 } from '../shared/stats.js'
import { SKEW } from './constants.js'
import { SIMULATION } from './constants.js'
import { runPooled } from './sim/pool.js'
import type { SchedulingPolicy } from '../../src/offload/policy.js'

const POLICIES: SchedulingPolicy[] = ['random', 'round-robin', 'least-outstanding', 'p2c']

export interface SkewRun {
  seed: number
  /** p99 per policy, ms. */
  p99: Record<string, number>
  /** p2c p99 / random p99 and p2c p99 / least-outstanding p99. */
  vsRandom: number
  vsLeastOutstanding: number
}

export interface SkewResult {
  runs: SkewRun[]
  settings: typeof SKEW
}

export async function measureSkew (progress: (line: string) => void): Promise<SkewResult> {
  const t = PRESETS['local-test']
  const cadence = { intervalMs: t.reportIntervalMs, heartbeatBudget: t.heartbeatBudget, changeBudget: t.changeBudget, maxIntervalMs: t.maxHeartbeatMs }
  const jobs = SKEW.seeds.flatMap(seed => POLICIES.map(policy => ({ seed, policy, init: { ...SKEW, knowledge: 'gossip' as const, policy, cadence, expiryIntervals: t.expiryIntervals, seed } })))
  const done = await runPooled(jobs.map(j => j.init), SIMULATION.workers, SIMULATION.youngGenerationMb)
  const runs = SKEW.seeds.map(seed => {
    const p99: Record<string, number> = {}
    jobs.forEach((j, i) => { if (j.seed === seed) p99[j.policy] = round2(done[i].result.p99) })
    const run = { seed, p99, vsRandom: round3(p99.p2c / p99.random), vsLeastOutstanding: round3(p99.p2c / p99['least-outstanding']) }
    progress(`skew: seed ${seed}: p99 ${POLICIES.map(p => `${p} ${p99[p]} ms`).join(', ')}`)
    return run
  })
  return { runs, settings: SKEW }
}
