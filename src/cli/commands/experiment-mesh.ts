/**
 * `edge-mesh experiment mnist --mode mesh`: N real node processes on this
 * machine, the first a seed that coordinates (and, unless
 * `--coordinator-only`, holds clients too); the K clients are spread over the
 * nodes that train as multi-shard `--data` specs. One run per strategy, one
 * after another on the same mesh; rounds are written as they complete.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { shardSpecs } from '../../federated/mesh/data-spec.js'
import { initialRecord } from '../../experiments/csv.js'
import { callApi } from '../api-client.js'
import { addressOn, loopbackAddress, removeWhenParentDies, startNodeProcess } from '../cluster.js'
import { followRun, progressPrinter, runFailed } from './train.js'
import { INTERRUPTED_EXIT_CODE } from './train-interrupt.js'
import type { NodeProcess, TempDirWatchdog } from '../cluster.js'
import type { ExperimentOutputs } from '../../experiments/outputs.js'
import type { RoundRecord } from '../../federated/run-types.js'
import type { RoundSummary, RunSummary } from '../../federated/mesh/service-types.js'

/** What mesh mode needs of the experiment's options. */
export interface MeshExperiment {
  clients: number
  nodes: number
  coordinatorOnly: boolean
  fraction?: number
  epochs: number
  batchSize: number
  rounds: number
  learningRate: number
  partition: string
  strategies: string[]
  minParticipants?: number
  deadlineMs: number
  byzantine: number
  attack: string
  rootExamples: number
  trustWeighting: 'cosine' | 'sign'
  seed: number
  dp?: Record<string, unknown>
  /** Update compression of the run (`int8`, `topk:<ratio>`). */
  compression?: string
  /** The run's `secureAggregation` field (`--secagg*`); mesh mode then keeps node 0 free of clients. */
  secureAggregation?: Record<string, unknown>
}

export function asRecord (r: RoundSummary): RoundRecord {
  const privacy = r.epsilon === undefined ? {} : { privacy: { epsilon: r.epsilon, delta: r.delta ?? Number.NaN, sampleRate: Number.NaN, noiseMultiplier: Number.NaN } }
  return { ...r, failureReasons: [], attempts: 1, slowestTrainMs: 0, ...privacy }
}

/** Nodes that run the attack in mesh mode: the last round(f * (N - 1)) nodes, never the coordinator (node 0). */
export function byzantineNodes (nodes: number, fraction: number): Set<number> {
  const n = Math.min(nodes - 1, Math.round(fraction * (nodes - 1)))
  return new Set(Array.from({ length: n }, (_, i) => nodes - 1 - i))
}

/** The `--data` of node `j`: shards j, j+T, ... of K over the T training nodes (none for a coordinator-only node 0). */
export function nodeData (o: Pick<MeshExperiment, 'clients' | 'nodes' | 'coordinatorOnly' | 'partition' | 'seed'>, j: number): string {
  if (o.coordinatorOnly && j === 0) return ''
  const first = o.coordinatorOnly ? j - 1 : j
  const trainers = o.coordinatorOnly ? o.nodes - 1 : o.nodes
  return shardSpecs(first, trainers, o.clients, o.partition, o.seed)
}

async function startMesh (o: MeshExperiment, dir: string, nodes: NodeProcess[], watchdog: TempDirWatchdog): Promise<void> {
  const byzantine = byzantineNodes(o.nodes, o.byzantine)
  for (let j = 0; j < o.nodes; j++) {
    const data = nodeData(o, j)
    // Node 0 coordinates; the others bootstrap from it, which makes them trust it as their coordinator.
    const args = ['--name', `fed-${j}`, '--preset', 'local-test', '--api-port', '0', '--no-mdns',
      '--listen', `/ip4/${loopbackAddress(j)}/tcp/0`, '--data-dir', join(dir, `node-${j}`),
      ...(data === '' ? [] : ['--data', data]), ...(j === 0 ? [] : ['--bootstrap', addressOn(nodes[0], loopbackAddress(0))]),
      ...(byzantine.has(j) ? ['--byzantine', o.attack] : [])]
    nodes.push(await startNodeProcess({ command: j === 0 ? 'seed' : 'start', args, watchdog }))
    process.stdout.write(`node ${j} ${nodes[j].peerId} ${data === '' ? '(no data: coordinates only)' : `(${data.split(',').length} clients)`}${byzantine.has(j) ? ` byzantine: ${o.attack}` : ''}\n`)
  }
}

/** The `POST /federated/runs` body of one strategy's run. */
export function runSpec (o: MeshExperiment, strategy: string): Record<string, unknown> {
  return {
    rounds: o.rounds, epochs: o.epochs, batchSize: o.batchSize, learningRate: o.learningRate, fraction: o.fraction,
    minParticipants: o.minParticipants, roundDeadlineMs: o.deadlineMs, strategy, seed: o.seed,
    waitForClients: o.clients, trustWeighting: o.trustWeighting,
    ...(strategy === 'fltrust' ? { rootData: `mnist:0/${Math.max(1, Math.round(8000 / o.rootExamples))}:seed=${o.seed + 1}` } : {}),
    ...(o.dp === undefined ? {} : { dp: o.dp }),
    ...(o.compression === undefined ? {} : { compression: o.compression }),
    ...(o.secureAggregation === undefined ? {} : { secureAggregation: o.secureAggregation })
  }
}

/** One strategy's run on the started mesh; its rounds go to `outputs` as they complete. */
async function runOne (api: string, o: MeshExperiment, strategy: string, outputs: ExperimentOutputs, signal: AbortSignal): Promise<RunSummary> {
  const started = await callApi(api, '/federated/runs', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(runSpec(o, strategy)), signal
  })
  const progress = progressPrinter(process.stdout.isTTY === true)
  let initialWritten = false
  const run = await followRun(api, started.id, (r, summary) => {
    if (!initialWritten && summary.initial !== undefined) outputs.add(strategy, initialRecord(summary.initial, ''))
    initialWritten = true
    outputs.add(strategy, asRecord(r))
    progress.round(r, summary)
  }, signal, progress.note)
  progress.done()
  return run
}

/** Run the experiment on a local mesh; returns the runs (the CLI exits 1 when one did not complete). */
export async function runMeshExperiment (o: MeshExperiment, outputs: ExperimentOutputs, reached: (records: RoundRecord[]) => string): Promise<RunSummary[]> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-mesh-experiment-'))
  // Killed however (even kill -9), the nodes stop with this process and the watchdog removes `dir`.
  const watchdog = removeWhenParentDies(dir)
  const nodes: NodeProcess[] = []
  const controller = new AbortController()
  const onSignal = (): void => { controller.abort() }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const runs: RunSummary[] = []
  try {
    const t0 = performance.now()
    await startMesh(o, dir, nodes, watchdog)
    const startupMs = performance.now() - t0
    for (const strategy of o.strategies) {
      const t1 = performance.now()
      const run = await runOne(nodes[0].apiUrl, o, strategy, outputs, controller.signal)
      runs.push(run)
      const records = run.history.map(asRecord)
      const bytes = records.reduce((n, r) => n + r.bytesUp + r.bytesDown, 0)
      process.stdout.write(`run ${run.id} (${strategy}) ${run.state}${run.error === undefined ? '' : ` (${run.error.name}: ${run.error.message})`}\n` +
        `${reached(records)}\nwall time: node start-up ${(startupMs / 1000).toFixed(1)} s (not included below), ` +
        `training ${((performance.now() - t1) / 1000).toFixed(1)} s (waiting for clients, ${records.length} rounds and evaluations), ${(bytes / 1e6).toFixed(1)} MB moved\n`)
      if (runFailed(run)) break
    }
    process.stdout.write(`wrote ${outputs.files().join(', ')}\n`)
    return runs
  } catch (err) {
    if (!controller.signal.aborted) throw err
    process.stdout.write(`\ninterrupted: the rounds that finished are in ${outputs.files().join(', ')}; stopping the nodes\n`)
    process.exitCode = INTERRUPTED_EXIT_CODE
    return runs
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    await Promise.all(nodes.map(async (n) => n.stop()))
    await rm(dir, { recursive: true, force: true })
  }
}
