/**
 * Phase 1, the gossip and scheduling simulation (see `sim/mesh.ts`): for each
 * mesh size, `repetitions` seeds, each run with what a node knows (gossiped
 * load, loads answered with responses, its own requests, load probes of the two
 * sampled peers) and with full knowledge of every peer's load (same seed, so the
 * same arrivals); the median of the runs is reported. With `designStudy`
 * (`BENCH_DESIGN_STUDY=1`) the first seed of each size also runs without the
 * probes (a design study, left out of the default run for time). Cadence
 * settings are the `lan` preset's. The runs are deterministic and go through
 * the worker pool (`sim/pool.ts`), `SIMULATION.workers` at a time.
 */
import { PRESETS } from '../../src/node/presets.js'
import { median, round2, round3 } from '../shared/stats.js'
import { SIMULATION } from './constants.js'
import { runPooled } from './sim/pool.js'
import type { MeshSimInit, MeshSimResult } from './sim/mesh.js'

export interface SizeResult {
  nodes: number
  /** Median over runs of reports received per node per second. */
  messagesPerNodePerSecond: number
  /** Median p99 with gossiped load, and with full knowledge, ms. */
  p99Gossip: number
  p99Full: number
  /** p99Gossip / p99Full. */
  p99Ratio: number
  p50Gossip: number
  p50Full: number
  /** Share of requests served by the slow nodes (median), gossip and full knowledge. */
  slowShareGossip: number
  slowShareFull: number
  /** Design study (`BENCH_DESIGN_STUDY=1` only), first seed: p99 without the load probes (gossip, answered loads and own requests only), ms; over that seed's full-knowledge p99. */
  p99NoProbe?: number
  p99NoProbeRatio?: number
  /**
   * Load probe questions and answers received per node per second (a cost per
   * request, like the request itself, not per peer: it does not grow with N).
   */
  probesPerNodePerSecond: number
  /** Every run's figures. */
  runs: Run[]
  /** Wall time of each of this size's runs (in the worker pool, side by side with other runs), s. */
  runWallS: number[]
}

interface Run { gossip: MeshSimResult, full: MeshSimResult, noProbe?: MeshSimResult }

export interface SimulationResult {
  sizes: SizeResult[]
  cadence: typeof PRESETS.lan
  settings: typeof SIMULATION
}

export async function measureSimulation (progress: (line: string) => void, designStudy: boolean): Promise<SimulationResult> {
  const timings = PRESETS.lan
  const cadence = { intervalMs: SIMULATION.reportIntervalMs, heartbeatBudget: timings.heartbeatBudget, changeBudget: timings.changeBudget, maxIntervalMs: timings.maxHeartbeatMs }
  const { workers, youngGenerationMb, ...settings } = SIMULATION
  // Largest meshes first: they take longest, so the pool ends with short runs.
  const jobs: Array<{ nodes: number, r: number, kind: keyof Run, init: MeshSimInit }> = []
  for (const nodes of [...SIMULATION.sizes].sort((a, b) => b - a)) {
    for (let r = 0; r < SIMULATION.repetitions; r++) {
      const base: Omit<MeshSimInit, 'knowledge'> = { ...settings, nodes, cadence, expiryIntervals: timings.expiryIntervals, seed: SIMULATION.seed + r }
      jobs.push({ nodes, r, kind: 'gossip', init: { ...base, knowledge: 'gossip' } })
      jobs.push({ nodes, r, kind: 'full', init: { ...base, knowledge: 'full' } })
      if (designStudy && r === 0) jobs.push({ nodes, r, kind: 'noProbe', init: { ...base, knowledge: 'gossip', probe: false } })
    }
  }
  const done = await runPooled(jobs.map(j => j.init), workers, youngGenerationMb, (i, run) => {
    const j = jobs[i]
    progress(`simulation: ${j.nodes} nodes, seed ${j.init.seed}, ${j.kind}: ${round2(run.result.messagesPerNodePerSecond)} msg/node/s, ${round2(run.result.probesPerNodePerSecond)} probes/node/s, p99 ${round2(run.result.p99)} ms (${round2(run.wallS)} s)`)
  })
  const sizes: SizeResult[] = []
  for (const nodes of SIMULATION.sizes) {
    const runs: Run[] = []
    const runWallS: number[] = []
    for (let r = 0; r < SIMULATION.repetitions; r++) {
      const of = (kind: keyof Run): MeshSimResult | undefined => done[jobs.findIndex(j => j.nodes === nodes && j.r === r && j.kind === kind)]?.result
      runs.push({ gossip: of('gossip')!, full: of('full')!, noProbe: of('noProbe') })
      jobs.forEach((j, i) => { if (j.nodes === nodes && j.r === r) runWallS.push(round2(done[i].wallS)) })
    }
    const med = (f: (x: Run) => number): number => median(runs.map(f))
    const p99Gossip = round2(med(x => x.gossip.p99))
    const p99Full = round2(med(x => x.full.p99))
    sizes.push({
      nodes,
      messagesPerNodePerSecond: round2(med(x => x.gossip.messagesPerNodePerSecond)),
      p99Gossip,
      p99Full,
      p99Ratio: round3(p99Gossip / p99Full),
      p50Gossip: round2(med(x => x.gossip.p50)),
      p50Full: round2(med(x => x.full.p50)),
      slowShareGossip: round3(med(x => x.gossip.slowShare)),
      slowShareFull: round3(med(x => x.full.slowShare)),
      p99NoProbe: runs[0].noProbe == null ? undefined : round2(runs[0].noProbe.p99),
      p99NoProbeRatio: runs[0].noProbe == null ? undefined : round3(runs[0].noProbe.p99 / round2(runs[0].full.p99)),
      probesPerNodePerSecond: round2(med(x => x.gossip.probesPerNodePerSecond)),
      runs,
      runWallS
    })
  }
  return { sizes, cadence: timings, settings: SIMULATION }
}
