/**
 * Phase 1, the gossip and scheduling simulation (see `sim/mesh.ts`): for each
 * mesh size, `repetitions` seeds, each run with gossiped load, with full
 * knowledge of every peer's load, and with the probe design study (same seed,
 * so the same arrivals); the median of the runs is reported. Cadence settings
 * are the `lan` preset's.
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
  /** Design study (not in the node): p99 when the two sampled peers are probed for their load, ms; over p99Full. */
  p99Probe: number
  p99ProbeRatio: number
  /** Probe requests and answers received per node per second in the design study. */
  probesPerNodePerSecond: number
  /** Every run's figures. */
  runs: Run[]
  /** Wall time of this size's runs, s. */
  wallS: number
}

interface Run { gossip: MeshSimResult, full: MeshSimResult, probe: MeshSimResult }

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
      runs.push({ gossip: simulateMesh({ ...base, knowledge: 'gossip' }), full: simulateMesh({ ...base, knowledge: 'full' }), probe: simulateMesh({ ...base, knowledge: 'probe' }) })
      const last = runs[runs.length - 1]
      progress(`simulation: ${nodes} nodes, run ${r + 1}/${SIMULATION.repetitions}: ${round2(last.gossip.messagesPerNodePerSecond)} msg/node/s, p99 ${round2(last.gossip.p99)} ms (full knowledge ${round2(last.full.p99)} ms, probe ${round2(last.probe.p99)} ms)`)
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
      p99Probe: round2(med(x => x.probe.p99)),
      p99ProbeRatio: round3(med(x => x.probe.p99) / p99Full),
      probesPerNodePerSecond: round2(med(x => x.probe.probesPerNodePerSecond)),
      runs,
      wallS: round2((performance.now() - startedAt) / 1000)
    })
  }
  return { sizes, cadence: timings, settings: SIMULATION }
}
