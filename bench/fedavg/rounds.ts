/**
 * Phase 3, round overhead on a real mesh: a seed coordinator and
 * `ROUNDS.participants` edge-mesh node processes on this machine, each
 * started with `--data mnist:<k>/<participants>` and bootstrapped to the
 * seed. The run is started with `POST /federated/runs` on the seed and
 * followed with `GET /federated/runs/:id` until it ends.
 *
 * Per round, overhead = wall time - the slowest aggregated participant's
 * local training time. The round's wall time (announce, model fetch, PULL,
 * training, PUSH, validation, aggregation, registering and evaluating the new
 * global) comes from the run summary; the slowest training time from the
 * summary when it carries `slowestTrainMs`, else from the RoundRecords in the
 * coordinator's checkpoint (`<dataDir>/federated/<runId>/state.json`), which
 * this benchmark owns. The goal's value is sum(overhead) / sum(wall).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { callApi } from '../../src/cli/api-client.js'
import { addressOn } from '../../src/cli/cluster.js'
import { ROUNDS, TARGETS } from './constants.js'
import { delay, median, round2, round3 } from './stats.js'
import type { Processes } from './processes.js'
import type { RoundRecord } from '../../src/federated/run-types.js'
import type { RunSummary } from '../../src/federated/mesh/service-types.js'

export interface RoundFigures {
  round: number
  wallMs: number
  slowestTrainMs: number
  overheadMs: number
  overheadFraction: number
  participants: number
  failures: number
  accuracy: number
  bytesUp: number
  bytesDown: number
}

export interface RoundsResult {
  rounds: RoundFigures[]
  /** sum(overhead) / sum(wall) over every measured round. */
  overheadFraction: number
  /** The same without round 1 (which also fetches the base model to every participant). */
  overheadFractionAfterFirst: number | null
  /** Median overhead per round, ms (absolute, unlike the fraction not diluted by slow training). */
  overheadMedianMs: number
  /** Where the slowest training time came from. */
  trainTimeSource: 'summary' | 'checkpoint'
  runId: string
  state: string
  settings: typeof ROUNDS
}

async function followRun (api: string, id: string, progress: (line: string) => void): Promise<RunSummary> {
  const deadline = Date.now() + ROUNDS.runTimeoutMs
  let shown = 0
  for (;;) {
    let run: RunSummary | undefined
    try {
      run = await callApi(api, `/federated/runs/${encodeURIComponent(id)}`)
    } catch (err: any) {
      if (err?.name !== 'RunNotFoundError') throw err
    }
    for (const r of run?.history.filter(h => h.round > shown) ?? []) {
      progress(`rounds: round ${r.round}/${run?.rounds}: ${r.participants} participants, ${Math.round(r.wallMs)} ms, accuracy ${r.accuracy.toFixed(3)}`)
      shown = r.round
    }
    if (run !== undefined && run.state !== 'running') return run
    if (Date.now() > deadline) throw new Error(`run ${id} did not end within ${ROUNDS.runTimeoutMs} ms`)
    await delay(ROUNDS.pollMs)
  }
}

/** Slowest training per round: from the summary when exposed, else from the coordinator's checkpoint. */
async function slowestTrainTimes (run: RunSummary, dataDir: string): Promise<{ byRound: Map<number, number>, source: 'summary' | 'checkpoint' }> {
  const fromSummary = run.history.map(h => [h.round, (h as { slowestTrainMs?: number }).slowestTrainMs] as const)
  if (fromSummary.length > 0 && fromSummary.every(([, ms]) => typeof ms === 'number')) {
    return { byRound: new Map(fromSummary as Array<[number, number]>), source: 'summary' }
  }
  const state = JSON.parse(await readFile(join(dataDir, 'federated', run.id, 'state.json'), 'utf8')) as { records: RoundRecord[] }
  return { byRound: new Map(state.records.map(r => [r.round, r.slowestTrainMs])), source: 'checkpoint' }
}

function fraction (rounds: RoundFigures[]): number {
  const wall = rounds.reduce((s, r) => s + r.wallMs, 0)
  return round3(rounds.reduce((s, r) => s + r.overheadMs, 0) / wall)
}

export async function measureRounds (processes: Processes, progress: (line: string) => void): Promise<RoundsResult> {
  progress(`rounds: starting a seed coordinator and ${ROUNDS.participants} participants`)
  const seed = await processes.node('seed', 'fed-seed', [])
  const bootstrap = addressOn(seed.node, seed.host)
  await Promise.all(Array.from({ length: ROUNDS.participants }, async (_, k) =>
    await processes.node('start', `fed-p${k}`, ['--data', `mnist:${k}/${ROUNDS.participants}`, '--bootstrap', bootstrap])))
  const { id } = await callApi(seed.node.apiUrl, '/federated/runs', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ROUNDS.spec)
  })
  progress(`rounds: run ${id} started on the seed`)
  const run = await followRun(seed.node.apiUrl, id, progress)
  if (run.state !== 'completed') progress(`rounds: run ended ${run.state}: ${run.error?.name}: ${run.error?.message}`)
  const { byRound, source } = await slowestTrainTimes(run, seed.dataDir)
  const rounds: RoundFigures[] = run.history.map(h => {
    const slowestTrainMs = byRound.get(h.round) ?? Number.NaN
    return {
      round: h.round,
      wallMs: round2(h.wallMs),
      slowestTrainMs: round2(slowestTrainMs),
      overheadMs: round2(h.wallMs - slowestTrainMs),
      overheadFraction: round3((h.wallMs - slowestTrainMs) / h.wallMs),
      participants: h.participants,
      failures: h.failures,
      accuracy: round3(h.accuracy),
      bytesUp: h.bytesUp,
      bytesDown: h.bytesDown
    }
  })
  if (rounds.length === 0) throw new Error(`run ${id} completed no round (${run.state})`)
  const overheadFraction = fraction(rounds)
  const later = rounds.filter(r => r.round > 1)
  progress(`rounds: overhead ${overheadFraction} of round time (target <= ${TARGETS.roundOverheadFraction})`)
  return {
    rounds,
    overheadFraction,
    overheadFractionAfterFirst: later.length > 0 ? fraction(later) : null,
    overheadMedianMs: round2(median(rounds.map(r => r.overheadMs))),
    trainTimeSource: source,
    runId: id,
    state: run.state,
    settings: ROUNDS
  }
}
