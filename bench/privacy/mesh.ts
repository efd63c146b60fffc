/**
 * Secure aggregation against plain FedAvg over a real mesh: a seed
 * coordinator (no data: a secure run trains none of the coordinator's own
 * clients) and `participants` edge-mesh node processes on this machine, node
 * k holding `mnist:k/10` (800 digits, the in-process phase's client size),
 * all over TCP + Noise on loopback. One-round runs of each variant are
 * started with `POST /federated/runs` and interleaved (the order rotates
 * every cycle, so neither variant always follows the other); each cycle
 * gives one paired sample, after one plain warm-up run not counted (every
 * participant fetches the base model in the first run). Round time is the coordinator's wall time of the
 * round (model offer, training, every protocol stage, aggregation,
 * evaluation); bytes are the run grid's counters (global weights pulled,
 * updates pushed or every secagg message, both directions).
 */
import { callApi } from '../../src/cli/api-client.js'
import { addressOn } from '../../src/cli/cluster.js'
import { delay, median, round2, round3 } from '../fedavg/stats.js'
import type { Processes } from '../fedavg/processes.js'
import type { RunSummary } from '../../src/federated/mesh/service-types.js'

/** What each variant adds to the run spec. */
export const MESH_VARIANTS: Record<string, Record<string, unknown>> = {
  plain: {},
  secure: { secureAggregation: {} },
  // int8 inside the mask ring (privacy/secagg/ring.ts): 8 + ceil(log2 10) = 12 bits per value up
  'secure int8': { secureAggregation: {}, compression: 'int8' }
}

export const MESH_SETTINGS = {
  /** 10 as the goal asks; `BENCH_SECAGG_MESH_PARTICIPANTS` lowers it on a machine that cannot hold them. */
  participants: 10,
  /** Cycles: one run of each variant per cycle, the median over cycles (>= 3). */
  cycles: 3,
  spec: { rounds: 1, epochs: 1, batchSize: 10, learningRate: 0.05, fraction: 1, roundDeadlineMs: 180_000, strategy: 'fedavg', seed: 3 },
  runTimeoutMs: 300_000,
  pollMs: 200
} as const

export interface MeshSample { variant: string, cycle: number, roundMs: number, bytes: number, bytesUp: number, bytesDown: number, participants: number, accuracy: number }

export interface MeshResult {
  participants: number
  cycles: number
  samples: MeshSample[]
  /** Medians over cycles, per variant. */
  roundMs: Record<string, number>
  bytes: Record<string, number>
  /** Median uplink bytes (updates, or every secagg message to the coordinator), per variant. */
  bytesUp: Record<string, number>
  /** Median over cycles of the paired ratio variant / plain (`secure`, and others when run). */
  timeRatio: Record<string, number>
  bytesRatio: Record<string, number>
  /** Median over cycles of secure float32 / secure int8 uplink bytes (when both ran). */
  int8UplinkRatio?: number
  /** Runs that failed (each retried once; a second failure ends the benchmark): which, and why. */
  failedRuns: Array<{ variant: string, cycle: number, error: string }>
  /** Node start-up and the warm-up run, not part of any sample, s. */
  startupS: number
}

async function followRun (api: string, id: string): Promise<RunSummary> {
  const deadline = Date.now() + MESH_SETTINGS.runTimeoutMs
  for (;;) {
    // not listed yet, or a poll reset on a loaded machine (the node is still there: the next poll tells)
    const run: RunSummary | undefined = await callApi(api, `/federated/runs/${encodeURIComponent(id)}`).catch((err) => {
      if (err?.name === 'RunNotFoundError' || err?.name === 'ApiUnreachableError') return undefined
      throw err
    })
    if (run !== undefined && run.state !== 'running') return run
    if (Date.now() > deadline) throw new Error(`run ${id} did not end within ${MESH_SETTINGS.runTimeoutMs} ms`)
    await delay(MESH_SETTINGS.pollMs)
  }
}

/** Wait until the coordinator sees every participant able to train and idle (a run must not find one still busy). */
async function idle (api: string, participants: number): Promise<void> {
  const deadline = Date.now() + 120_000
  for (;;) {
    const s = await callApi(api, '/status').catch((err) => {
      if (err?.name === 'ApiUnreachableError') return { peers: [] }
      throw err
    })
    const ready = (s.peers as Array<{ load?: { canTrain?: boolean, training?: boolean } }>).filter((p) => p.load?.canTrain === true && p.load?.training === false).length
    if (ready >= participants) return
    if (Date.now() > deadline) throw new Error(`only ${ready} of ${participants} participants idle and trainable`)
    await delay(MESH_SETTINGS.pollMs)
  }
}

async function oneRun (api: string, participants: number, extra: Record<string, unknown>): Promise<RunSummary> {
  const spec = { ...MESH_SETTINGS.spec, minParticipants: participants, waitForClients: participants, ...extra }
  const { id } = await callApi(api, '/federated/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) })
  const run = await followRun(api, id)
  if (run.state !== 'completed' || run.history.length !== 1) throw new Error(`run ${id} (${JSON.stringify(extra)}) ended ${run.state}: ${run.error?.name ?? ''} ${run.error?.message ?? ''}`)
  return run
}

/** `run`, and once more when it fails (a round can fail on a machine this loaded: connections time out); the first failure is reported. */
async function retriedOnce<T> (run: () => Promise<T>, failed: (error: string) => void): Promise<T> {
  try {
    return await run()
  } catch (err: any) {
    failed(String(err?.message ?? err).slice(0, 500))
    return await run()
  }
}

/** Start the mesh, run `cycles` interleaved cycles of every variant, stop nothing (the caller's `Processes` does). */
export async function measureMeshSecAgg (processes: Processes, variants: Record<string, Record<string, unknown>>, progress: (line: string) => void): Promise<MeshResult> {
  const participants = Number(process.env.BENCH_SECAGG_MESH_PARTICIPANTS ?? MESH_SETTINGS.participants)
  const t0 = performance.now()
  progress(`secagg mesh: starting a seed coordinator and ${participants} participant processes`)
  const seed = await processes.node('seed', 'sa-seed', [])
  const bootstrap = addressOn(seed.node, seed.host)
  // one at a time: 10 TF.js start-ups at once on 2 cores time out
  for (let k = 0; k < participants; k++) await processes.node('start', `sa-p${k}`, ['--data', `mnist:${k}/10`, '--bootstrap', bootstrap])
  await idle(seed.node.apiUrl, participants)
  await oneRun(seed.node.apiUrl, participants, {})
  const startupS = round2((performance.now() - t0) / 1000)
  const names = Object.keys(variants)
  const samples: MeshSample[] = []
  const failedRuns: MeshResult['failedRuns'] = []
  for (let cycle = 0; cycle < MESH_SETTINGS.cycles; cycle++) {
    for (let j = 0; j < names.length; j++) {
      const variant = names[(cycle + j) % names.length]
      const round = (await retriedOnce(async () => {
        await idle(seed.node.apiUrl, participants)
        return await oneRun(seed.node.apiUrl, participants, variants[variant])
      }, (error) => {
        failedRuns.push({ variant, cycle, error })
        progress(`secagg mesh cycle ${cycle + 1} ${variant} failed, once more: ${error}`)
      })).history[0]
      const sample = { variant, cycle, roundMs: round2(round.wallMs), bytes: round.bytesUp + round.bytesDown, bytesUp: round.bytesUp, bytesDown: round.bytesDown, participants: round.participants, accuracy: round3(round.accuracy) }
      progress(`secagg mesh cycle ${cycle + 1}/${MESH_SETTINGS.cycles} ${variant}: ${sample.roundMs.toFixed(0)} ms, ${sample.bytes} bytes (${sample.bytesUp} up), ${sample.participants} participants, accuracy ${sample.accuracy}`)
      samples.push(sample)
    }
  }
  const of = (v: string): MeshSample[] => samples.filter((s) => s.variant === v)
  const ratio = (v: string, key: 'roundMs' | 'bytes'): number => round3(median(of(v).map((s) => s[key] / of('plain')[s.cycle][key])))
  const per = (f: (v: string) => number, list = names): Record<string, number> => Object.fromEntries(list.map((v) => [v, f(v)]))
  const others = names.filter((v) => v !== 'plain')
  return {
    participants,
    cycles: MESH_SETTINGS.cycles,
    samples,
    roundMs: per((v) => round2(median(of(v).map((s) => s.roundMs)))),
    bytes: per((v) => median(of(v).map((s) => s.bytes))),
    bytesUp: per((v) => median(of(v).map((s) => s.bytesUp))),
    ...(variants['secure int8'] === undefined ? {} : { int8UplinkRatio: round3(median(of('secure').map((s) => s.bytesUp / of('secure int8')[s.cycle].bytesUp))) }),
    timeRatio: per((v) => ratio(v, 'roundMs'), others),
    bytesRatio: per((v) => ratio(v, 'bytes'), others),
    failedRuns,
    startupS
  }
}
