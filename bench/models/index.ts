/**
 * `npm run bench:models`: what offload buys for a real model. A burst of 200
 * MoveNet Lightning requests (`human:movenet-lightning`, a TF.js graph model
 * from the `@vladmandic/human` package; `BENCH_MODEL` picks another packaged
 * model) to one node alone, then with one idle peer in its own process, and
 * the latency price of running remotely (see `run.ts`). Three runs in each of
 * two placements (`placement.ts`): every node pinned to a core of its own, as
 * two one-core devices would be (the goals are checked on these medians), and
 * unpinned, where a lone node borrows part of the second core (reported beside
 * them). Beside each, the physical ceiling of the speed-up on this machine:
 * two pure-compute processes at once against one alone (see `ceiling.ts`).
 * Then the offload issue's scheduling benchmark with the same model and a slow
 * peer that really gets half a core, beside the same with the slowness
 * emulated (see `scheduling.ts`; `BENCH_MODELS_SCHEDULING=0` skips it).
 * Prints JSON on stdout (progress on stderr) and writes it to
 * `bench-results/models.json`.
 */
import { Processes } from '../offload/processes.js'
import { machineInfo, writeReport } from '../shared/report.js'
import { startBenchRun } from '../shared/run.js'
import { median, round3 } from '../shared/stats.js'
import { BURST, CAPACITY, CEILING, GOAL_PLACEMENT, GOALS, LATENCY_SAMPLES, MODEL, RUNS, SCHEDULING_GOALS } from './constants.js'
import { benchInputs } from './inputs.js'
import { runOnce } from './run.js'
import { measureCeiling } from './ceiling.js'
import { PLACEMENTS } from './placement.js'
import type { CeilingResult } from './ceiling.js'
import type { Placement } from './placement.js'
import { measureRealScheduling } from './scheduling.js'
import type { RealSchedulingResult } from './scheduling.js'
import type { Goal } from '../shared/run.js'
import type { RunResult } from './run.js'

function progress (line: string): void {
  process.stderr.write(`[bench:models ${new Date().toISOString().slice(11, 19)}] ${line}\n`)
}

/** The offload issue's scheduling goals on one variant's medians, and in how many rounds each held. */
function schedulingGoals (r: RealSchedulingResult): Goal[] {
  const held = (key: 'vsRandom' | 'vsLeastOutstanding', max: number): string => `${r.runs.filter(x => x[key] <= max).length} of ${r.runs.length} rounds`
  return [
    {
      name: `scheduling with a real model, ${r.slowness} slow peer: p2c p99 <= ${SCHEDULING_GOALS.maxVsRandom} x random (median of ${r.runs.length} rounds; held in ${held('vsRandom', SCHEDULING_GOALS.maxVsRandom)})`,
      value: r.median.vsRandom,
      target: SCHEDULING_GOALS.maxVsRandom,
      met: r.median.vsRandom <= SCHEDULING_GOALS.maxVsRandom
    },
    {
      name: `scheduling with a real model, ${r.slowness} slow peer: p2c p99 <= ${SCHEDULING_GOALS.maxVsLeastOutstanding} x least-outstanding (median of ${r.runs.length} rounds; held in ${held('vsLeastOutstanding', SCHEDULING_GOALS.maxVsLeastOutstanding)})`,
      value: r.median.vsLeastOutstanding,
      target: SCHEDULING_GOALS.maxVsLeastOutstanding,
      met: r.median.vsLeastOutstanding <= SCHEDULING_GOALS.maxVsLeastOutstanding
    }
  ]
}

function goals (speedup: number, overheadFraction: number, failed: number): Goal[] {
  return [
    { name: `burst of ${BURST}: speed-up with one idle peer >= ${GOALS.minSpeedup} (median of ${RUNS}, ${GOAL_PLACEMENT}; the unpinned figure is in median.unpinned)`, value: speedup, target: GOALS.minSpeedup, met: speedup >= GOALS.minSpeedup },
    {
      name: `remote p50 - local p50 <= ${GOALS.maxRemoteOverheadFraction} x the model's p50 (median of ${RUNS}, ${GOAL_PLACEMENT})`,
      value: overheadFraction,
      target: GOALS.maxRemoteOverheadFraction,
      met: overheadFraction <= GOALS.maxRemoteOverheadFraction
    },
    // A validity check: a failed request ends early and would flatter the burst time.
    { name: 'every burst request served (failed requests, all runs of both placements)', value: failed, target: 0, met: failed === 0 }
  ]
}

interface PlacementSummary {
  speedup: number
  speedupOfCeiling: number
  overheadFraction: number
  overheadP50Ms: number
  computeP50Ms: number
}

function summarisePlacement (runs: RunResult[], ceiling: CeilingResult): PlacementSummary {
  const speedup = round3(median(runs.map(r => r.speedup)))
  return {
    speedup,
    speedupOfCeiling: round3(speedup / ceiling.ceiling),
    overheadFraction: round3(median(runs.map(r => r.latency.overheadFraction))),
    overheadP50Ms: median(runs.map(r => r.latency.overheadP50)),
    computeP50Ms: median(runs.map(r => r.latency.computeP50))
  }
}

async function main (): Promise<void> {
  const processes = new Processes()
  const run = startBenchRun(async () => { await processes.stopAll() })
  try {
    const runs: Record<Placement, RunResult[]> = { 'one-core-each': [], unpinned: [] }
    let model
    for (let i = 1; i <= RUNS; i++) {
      // The two placements take turns going first, so neither always meets the machine as the other left it.
      const order = i % 2 === 1 ? PLACEMENTS : [...PLACEMENTS].reverse()
      for (const placement of order) {
        progress(`run ${i}/${RUNS} with ${MODEL}, ${placement}`)
        const { model: info, ...result } = await runOnce(processes, placement, progress)
        model = info
        runs[placement].push(result)
        progress(`run ${i} (${placement}): alone ${result.alone.wallMs} ms, with peer ${result.withPeer.wallMs} ms (x${result.speedup}); remote - local p50 ${result.latency.overheadP50} ms of ${result.latency.computeP50} ms`)
      }
    }
    const ceiling = {} as Record<Placement, CeilingResult>
    for (const placement of PLACEMENTS) {
      progress(`ceiling (${placement}): ${CEILING.inferences} inferences in one pure-compute process, then in two at once (${CEILING.rounds} rounds)`)
      ceiling[placement] = await measureCeiling(placement, progress)
    }
    const summary = Object.fromEntries(PLACEMENTS.map(p => [p, summarisePlacement(runs[p], ceiling[p])])) as Record<Placement, PlacementSummary>
    const failed = PLACEMENTS.flatMap(p => runs[p]).reduce((n, r) => n + r.alone.failed + r.withPeer.failed, 0)
    const scheduling: RealSchedulingResult[] = []
    if (model != null && process.env.BENCH_MODELS_SCHEDULING !== '0') {
      const computeMs = summary[GOAL_PLACEMENT].computeP50Ms
      for (const slowness of ['cpu-starved', 'emulated'] as const) {
        progress(`real-model scheduling, ${slowness} slow peer`)
        scheduling.push(await measureRealScheduling(processes, model.id, benchInputs(model), computeMs, slowness, progress))
      }
    }
    const goalSummary = summary[GOAL_PLACEMENT]
    const result = {
      machine: machineInfo(run),
      model: model == null ? MODEL : { name: model.name, id: model.id, format: model.format, inputs: model.inputs, fixedBatch: model.fixedBatch, parameters: model.parameters },
      settings: { burst: BURST, runs: RUNS, capacityPerNode: CAPACITY, latencySamples: LATENCY_SAMPLES, hedging: false, placements: PLACEMENTS, goalPlacement: GOAL_PLACEMENT },
      runs,
      ceiling,
      median: summary,
      scheduling,
      goals: [...goals(goalSummary.speedup, goalSummary.overheadFraction, failed), ...scheduling.flatMap(schedulingGoals)],
      durationS: Math.round(run.elapsedS())
    }
    await writeReport('models', result, run, progress)
  } finally {
    await processes.stopAll()
  }
}

main().catch(err => {
  process.stderr.write(`bench:models failed: ${String(err?.stack ?? err)}\n`)
  process.exit(1)
})
