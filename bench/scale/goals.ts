/** The goals of the scale benchmark (issue #12), each checked against the numbers of the same run. */
import { TARGETS } from './constants.js'
import type { AggregationMemoryResult } from './aggregation-memory.js'
import type { IdleResult } from './idle.js'
import type { SimulationResult } from './simulation.js'
import type { SkewResult } from './skew.js'
import type { Goal } from '../shared/run.js'

export function goals (r: { simulation?: SimulationResult, idle?: IdleResult, aggregation?: AggregationMemoryResult, skew?: SkewResult }): Goal[] {
  const out: Goal[] = []
  if (r.simulation != null) {
    for (const size of r.simulation.sizes) {
      out.push({ name: `${size.nodes} nodes: messages received per node per second < ${TARGETS.messagesPerNodePerSecond}`, value: size.messagesPerNodePerSecond, target: TARGETS.messagesPerNodePerSecond, met: size.messagesPerNodePerSecond < TARGETS.messagesPerNodePerSecond })
      out.push({ name: `${size.nodes} nodes: scheduler p99 with gossiped load / with full knowledge <= ${TARGETS.p99VsFullKnowledge}`, value: size.p99Ratio, target: TARGETS.p99VsFullKnowledge, met: size.p99Ratio <= TARGETS.p99VsFullKnowledge })
    }
  }
  if (r.idle != null) {
    out.push({ name: `idle CPU per edge, ${r.idle.settings.large} edges / ${r.idle.settings.small} edges <= ${TARGETS.idleCpuRatio}`, value: r.idle.ratio, target: TARGETS.idleCpuRatio, met: r.idle.ratio <= TARGETS.idleCpuRatio })
  }
  if (r.aggregation != null) {
    out.push({ name: `FedAvg coordinator peak RSS, ${r.aggregation.settings.large} / ${r.aggregation.settings.small} participants <= ${TARGETS.aggregationRssRatio}`, value: r.aggregation.ratio, target: TARGETS.aggregationRssRatio, met: r.aggregation.ratio <= TARGETS.aggregationRssRatio })
  }
  if (r.skew != null) {
    const n = r.skew.runs.length
    const vsRandom = r.skew.runs.filter(x => x.vsRandom <= 0.5).length
    const vsLor = r.skew.runs.filter(x => x.vsLeastOutstanding <= 1).length
    out.push({ name: `simulated scheduling scenario: p2c p99 <= 0.5 x random in every seed (seeds meeting it)`, value: vsRandom, target: n, met: vsRandom === n })
    out.push({ name: `simulated scheduling scenario: p2c p99 <= 1.0 x least-outstanding in every seed (seeds meeting it)`, value: vsLor, target: n, met: vsLor === n })
  }
  return out
}
