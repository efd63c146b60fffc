/**
 * `npm run bench:privacy`: secure aggregation and update compression against
 * their goals, measured in one run. Prints JSON on stdout (progress on
 * stderr) and writes it to `bench-results/privacy.json`.
 *
 * Phases (`BENCH_PHASES=secagg,mesh,compression` runs a subset):
 * 1. secagg: round time and bytes of secure aggregation vs plain FedAvg,
 *    10 clients, the example 2NN, median of 3 seeded samples, in process;
 * 1b. mesh: the same over real node processes (a seed coordinator and 10
 *    participants over TCP + Noise), plain and secure one-round runs
 *    interleaved with secure runs whose updates are int8 inside the mask
 *    ring, median of 3 paired cycles (`mesh.ts`);
 * 2. compression: float32 vs int8 vs top-k 1 % (plain error feedback, and
 *    DGC: momentum correction, masking, warm-up) on IID MNIST, 100 clients,
 *    C=0.1, `BENCH_COMPRESSION_ROUNDS` rounds (20), median of the seeds
 *    `BENCH_COMPRESSION_SEEDS` (0,1,2), and top-k 1 % with error feedback
 *    for partial participation (sender averaging, stale-residual discount).
 *    The top-k goals judge that variant; DGC's figures are reported too.
 * The DP table is a separate script (examples/privacy/dp-table.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { createModelRuntime } from '../../src/model/index.js'
import { measureCompression, TOPK_LABELS } from './compression.js'
import { measureSecAgg } from './secagg.js'
import { MESH_VARIANTS, measureMeshSecAgg } from './mesh.js'
import { Processes } from '../fedavg/processes.js'
import { startBenchRun } from '../shared/run.js'
import type { Goal } from '../shared/run.js'
import type { CompressionResult } from './compression.js'
import type { SecAggResult } from './secagg.js'
import type { MeshResult } from './mesh.js'

export const TARGETS = { secaggTimeRatio: 1.5, secaggBytesRatio: 1.3, secaggInt8UplinkRatio: 2, int8BytesRatio: 3.9, int8DropPoints: 1, topkBytesRatio: 20, topkDropPoints: 2 } as const

function progress (line: string): void {
  process.stderr.write(`[bench:privacy ${new Date().toISOString().slice(11, 19)}] ${line}\n`)
}

function goals (secagg?: SecAggResult, compression?: CompressionResult, mesh?: MeshResult): Goal[] {
  const out: Goal[] = []
  const atMost = (name: string, value: number, target: number): void => { out.push({ name, value, target, met: value <= target }) }
  const atLeast = (name: string, value: number, target: number): void => { out.push({ name, value, target, met: value >= target }) }
  if (secagg !== undefined) {
    atMost('secure aggregation round time <= 1.5 x plain FedAvg (10 clients, 2NN)', secagg.timeRatio, TARGETS.secaggTimeRatio)
    atMost('secure aggregation bytes <= 1.3 x plain FedAvg (10 clients, 2NN)', secagg.bytesRatio, TARGETS.secaggBytesRatio)
  }
  if (mesh !== undefined) {
    const n = `${mesh.participants} node processes, 2NN, median of ${mesh.cycles} interleaved rounds`
    atMost(`secure aggregation over the mesh: round time <= 1.5 x plain FedAvg (${n})`, mesh.timeRatio.secure, TARGETS.secaggTimeRatio)
    atMost(`secure aggregation over the mesh: bytes <= 1.3 x plain FedAvg (${n})`, mesh.bytesRatio.secure, TARGETS.secaggBytesRatio)
    // 32 / 12 = 2.67 at 10 clients, less the fixed protocol messages
    if (mesh.int8UplinkRatio !== undefined) atLeast(`int8 in the mask ring: secure float32 / secure int8 uplink bytes >= 2 (${n})`, mesh.int8UplinkRatio, TARGETS.secaggInt8UplinkRatio)
  }
  if (compression !== undefined) {
    atLeast('int8 uplink bytes: float32 / int8 >= 3.9', compression.bytesRatio.int8, TARGETS.int8BytesRatio)
    atMost('int8 final accuracy drop vs float32 <= 1 point', compression.accuracyDropPoints.int8, TARGETS.int8DropPoints)
    const topk = TOPK_LABELS.partial
    atLeast('top-k 1 % with error feedback (sender averaging, stale discount) uplink bytes: float32 / top-k >= 20', compression.bytesRatio[topk], TARGETS.topkBytesRatio)
    atMost('top-k 1 % with error feedback (sender averaging, stale discount) final accuracy drop vs float32 (both plain FedAvg) <= 2 points (median of seeds)', compression.accuracyDropPoints[topk], TARGETS.topkDropPoints)
  }
  return out
}

async function main (): Promise<void> {
  const processes = new Processes()
  const run = startBenchRun(async () => { await processes.stopAll() })
  const only = process.env.BENCH_PHASES?.split(',')
  const runtime = await createModelRuntime()
  const secagg = only === undefined || only.includes('secagg') ? await measureSecAgg(runtime, 3, 2, progress) : undefined
  let mesh: MeshResult | undefined
  if (only === undefined || only.includes('mesh')) {
    try {
      mesh = await measureMeshSecAgg(processes, MESH_VARIANTS, progress)
    } finally {
      await processes.stopAll()
    }
  }
  const rounds = Number(process.env.BENCH_COMPRESSION_ROUNDS ?? 20)
  const seeds = (process.env.BENCH_COMPRESSION_SEEDS ?? '0,1,2').split(',').map(Number)
  const compression = only === undefined || only.includes('compression') ? await measureCompression(runtime, rounds, seeds, progress) : undefined
  const result = {
    machine: { cpus: cpus().length, node: process.version, loadAverage: run.loadAverage() },
    secagg,
    mesh,
    compression,
    goals: goals(secagg, compression, mesh),
    durationS: Math.round(run.elapsedS())
  }
  const json = JSON.stringify(result, null, 2)
  await mkdir('bench-results', { recursive: true })
  await writeFile('bench-results/privacy.json', json + '\n')
  process.stdout.write(json + '\n')
}

main().catch((err) => {
  process.stderr.write(`bench:privacy failed: ${String(err?.stack ?? err)}\n`)
  process.exit(1)
})
