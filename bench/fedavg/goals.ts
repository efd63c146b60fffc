/**
 * The goals of the federated averaging benchmark, each checked against the
 * numbers measured in the same run.
 */
import { TARGETS } from './constants.js'
import type { AggregationResult } from './aggregation.js'
import type { MemoryResult } from './memory.js'
import type { RoundsResult } from './rounds.js'
import type { TransferResult } from './transfer.js'
import type { Goal } from '../shared/run.js'

/** Goals whose phase ran; a phase left out (BENCH_PHASES) or failed has no goal entry. */
export function goals (r: { aggregation?: AggregationResult, transfer?: TransferResult, roundOverhead?: RoundsResult, memory?: MemoryResult }): Goal[] {
  const out: Goal[] = []
  if (r.aggregation != null) {
    const ratio = Math.min(r.aggregation.ratio, r.aggregation.pristine?.ratio ?? Infinity)
    out.push({ name: 'FedAvg aggregation GB/s >= 0.8 x plain Float32Array loop (lower of node-like and fresh process)', value: ratio, target: TARGETS.aggregationRatio, met: ratio >= TARGETS.aggregationRatio })
  }
  if (r.transfer != null) {
    const { ratio } = r.transfer
    out.push({ name: 'fedavg PULL goodput >= 0.8 x raw libp2p stream', value: ratio, target: TARGETS.transferRatio, met: ratio >= TARGETS.transferRatio })
  }
  if (r.roundOverhead != null) {
    const { overheadFraction } = r.roundOverhead
    out.push({ name: 'round overhead (wall - slowest training) <= 10 % of the round, 4 nodes', value: overheadFraction, target: TARGETS.roundOverheadFraction, met: overheadFraction <= TARGETS.roundOverheadFraction })
  }
  if (r.memory != null) {
    const { peakRssMb } = r.memory
    out.push({ name: 'peak RSS of simulate mode, 100 clients < 2 GB (MiB)', value: peakRssMb, target: TARGETS.peakRssMb, met: peakRssMb < TARGETS.peakRssMb })
  }
  return out
}
