/**
 * The goals of the offload benchmark (issue "Inference offload"), each
 * checked against the numbers measured in the same run.
 */
import { round2 } from './stats.js'
import type { LatencyResult } from './latency.js'
import type { MemoryResult } from './memory.js'
import type { PipelineResult } from './pipeline.js'
import type { SchedulingResult } from './scheduling.js'
import type { ThroughputResult } from './throughput.js'
import type { Goal } from '../shared/run.js'

/** Goals whose phase ran; a phase left out (BENCH_PHASES) has no goal entry. */
export function goals (r: { latency?: LatencyResult, scheduling?: SchedulingResult, throughput?: ThroughputResult, memory?: MemoryResult, pipeline?: PipelineResult }): Goal[] {
  const out: Goal[] = []
  if (r.latency != null) {
    const target = round2(1.5 * r.latency.echo.p50)
    out.push({ name: 'remote p50 - local p50 <= 1.5 x echo p50 (ms)', value: r.latency.remoteOverheadP50, target, met: r.latency.remoteOverheadP50 <= target })
    const ratio = r.latency.overheadVsEchoOpen
    out.push({ name: '(remote p50 - local p50) / size-matched open-stream echo p50 <= 1.5 (median of runs)', value: ratio, target: 1.5, met: ratio <= 1.5 })
  }
  if (r.pipeline != null) {
    out.push({ name: 'serving throughput through the mesh / direct predict >= 0.5 (median of rounds)', value: r.pipeline.ratio, target: 0.5, met: r.pipeline.ratio >= 0.5 })
    out.push({ name: 'pipeline phase: every request served (failed requests)', value: r.pipeline.failed, target: 0, met: r.pipeline.failed === 0 })
  }
  if (r.scheduling != null) {
    // Each round is a run; the goal holds when it holds in every run (3 of 3); the value is the median ratio.
    const runs = r.scheduling.runs
    const vsRandom = runs.filter(x => x.vsRandom <= 0.5).length
    const vsLor = runs.filter(x => x.vsLeastOutstanding <= 1).length
    out.push({ name: `edge-mesh scheduler p99 / random p99 <= 0.5 in every run (median ratio; held in ${vsRandom} of ${runs.length})`, value: r.scheduling.median.vsRandom, target: 0.5, met: vsRandom === runs.length })
    out.push({ name: `edge-mesh scheduler p99 / least-outstanding p99 <= 1.0 in every run (median ratio; held in ${vsLor} of ${runs.length})`, value: r.scheduling.median.vsLeastOutstanding, target: 1, met: vsLor === runs.length })
    out.push({ name: 'edge-mesh scheduler success = 100 %', value: r.scheduling.edgeMesh.success, target: 1, met: r.scheduling.edgeMesh.success === 1 })
  }
  if (r.throughput != null) {
    // Not a goal of the issue but a validity check: a refused request ends fast and would inflate the rate.
    out.push({ name: 'throughput phase: every request served (failed requests)', value: r.throughput.failed, target: 0, met: r.throughput.failed === 0 })
  }
  if (r.memory != null) {
    out.push({ name: 'serving RSS growth over 20,000 requests after warm-up < 10 %', value: r.memory.growth, target: 0.1, met: r.memory.growth < 0.1 })
    const retained = r.memory.afterGc.retainedGrowth
    out.push({ name: 'serving memory retained after a forced GC (V8 heap + external) growth over the same requests < 10 %', value: retained, target: 0.1, met: retained < 0.1 })
  }
  return out
}
