/**
 * Phase 1, the gossip and scheduling simulation (see `sim/mesh.ts`): for each
 * mesh size, `repetitions` seeds, each run with what a node knows (gossiped
 * load, loads answered with responses, its own requests, load probes of the two
 * sampled peers), with full knowledge of every peer's load, and without the
 * probes (a design study; same seed, so the same arrivals); the median of the
 * runs is reported. Cadence settings are the `lan` preset's.
 */
import { PRESETS } from '../../src/node/presets.js'
import { median, round2, round3 } from '../shared/stats.js'
import { SIMULATION } from './constants.js'
import { simulateMesh } from './sim/mesh.js'
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
  /** Design study, first seed only: p99 without the load probes (gossip, answered loads and own requests only), ms; over that seed's full-knowledge p99. */
  p99NoProbe: number
  p99NoProbeRatio: number
  /**
   * Load probe questions and answers received per node per second (a cost per
   * request, like the request itself, not per peer: it does not grow with N).
   */
  probesPerNodePerSecond: number
  /** Every run's figures. */
  runs: Run[]
  /** Wall time of this size's runs, s. */
  wallS: number
}

interface Run { gossip: MeshSimResult, full: MeshSimResult, noProbe?: MeshSimResult }

export interface SimulationResult {
  sizes: SizeResult[]
  cadence: typeof PRESETS.lan
  settings: typeof SIMULATION
}

export function measureSimulation (progress: (line: string) => void): SimulationResult {
  const timings = PRESETS.lan
  const cadence = { intervalMs: SIMULATION.reportIntervalMs, heartbeatBudget: timings.heartbeatBudget, changeBudget: timings.changeBudget, maxIntervalMs: timings.maxHeartbeatMs }
  const sizes: SizeResult[] = []
  for (const nodes of SIMULATION.sizes) {
    const startedAt = performance.now()
    const runs: SizeResult['runs'] = []
    for (let r = 0; r < SIMULATION.repetitions; r++) {
      const base: Omit<MeshSimInit, 'knowledge'> = { ...SIMULATION, nodes, cadence, expiryIntervals: timings.expiryIntervals, seed: SIMULATION.seed + r }
      // The design study runs with the first seed only, to keep `npm run bench` within its time budget.
      const noProbe = r === 0 ? simulateMesh({ ...base, knowledge: 'gossip', probe: false }) : undefined
      runs.push({ gossip: simulateMesh({ ...base, knowledge: 'gossip' }), full: simulateMesh({ ...base, knowledge: 'full' }), noProbe })
      const last = runs[runs.length - 1]
      const study = last.noProbe == null ? '' : `, without probes ${round2(last.noProbe.p99)} ms`
      progress(`simulation: ${nodes} nodes, run ${r + 1}/${SIMULATION.repetitions}: ${round2(last.gossip.messagesPerNodePerSecond)} msg/node/s, ${round2(last.gossip.probesPerNodePerSecond)} probes/node/s, p99 ${round2(last.gossip.p99)} ms (full knowledge ${round2(last.full.p99)} ms${study})`)
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
      p99NoProbe: round2(runs[0].noProbe?.p99 ?? NaN),
      p99NoProbeRatio: round3((runs[0].noProbe?.p99 ?? NaN) / round2(runs[0].full.p99)),
      probesPerNodePerSecond: round2(med(x => x.gossip.probesPerNodePerSecond)),
      runs,
      wallS: round2((performance.now() - startedAt) / 1000)
    })
  }
  return { sizes, cadence: timings, settings: SIMULATION }
}
