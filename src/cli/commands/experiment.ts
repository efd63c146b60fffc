/**
 * `edge-mesh experiment mnist`: McMahan et al.'s MNIST experiment, simulated
 * (virtual clients in this process) or on a real mesh of N local node
 * processes (the first one a seed, coordinating; K clients spread over the
 * nodes as multi-shard `--data` specs). Both write rounds.csv and accuracy.svg.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { shardSpecs } from '../../federated/mesh/data-spec.js'
import { roundsToCsv } from '../../experiments/csv.js'
import { runMnistExperiment, roundsToTargets } from '../../experiments/mnist.js'
import { lineChartSvg } from '../../experiments/plot.js'
import { intFlag, numberFlag, parseFlags } from '../args.js'
import { callApi } from '../api-client.js'
import { addressOn, loopbackAddress, startNodeProcess } from '../cluster.js'
import { UsageError } from '../errors.js'
import { dpFrom, followRun, progressPrinter } from './train.js'
import { roundSummary } from '../../federated/mesh/runs.js'
import type { NodeProcess } from '../cluster.js'
import type { RoundRecord } from '../../federated/run-types.js'
import type { RoundSummary, RunSummary } from '../../federated/mesh/service-types.js'

export const EXPERIMENT_HELP = `Usage: edge-mesh experiment mnist [options]
MNIST federated averaging (McMahan et al.): K clients on digits 0..7999, evaluated on 8000..9999.
  --mode simulate|mesh       virtual clients here, or N real node processes (simulate)
  --clients <K>              clients (100)
  --nodes <N>                node processes in mesh mode; node j holds shards j, j+N, ... (4)
  --fraction <C>             fraction of clients per round (0.1)
  --epochs <E> --batch <B>   local epochs and batch size (1, 10)
  --rounds <R>               rounds (20)
  --lr <x>                   learning rate (0.05)
  --partition <p>            iid | noniid | dirichlet:<alpha> (iid)
  --strategy <name>          fedavg|fedsgd|fedmedian|trimmed-mean|krum|fltrust (fedavg)
  --root-examples <n>        fltrust: digits in the coordinator's root data set (100)
  --trust-weighting <w>      fltrust: cosine (the paper's) | sign (cosine)
  --min-participants <n>     fewest updates per round (2)
  --deadline <ms>            per-round deadline in mesh mode (120000)
  --byzantine <f>            fraction of byzantine clients (0); in mesh mode, of the nodes after the
                             coordinator, each started with --byzantine <attack> (attacks never travel on the wire)
  --attack <name>            signflip|scale|noise|labelflip (signflip)
  --bucket-size <s>          average updates in random buckets of s before a robust strategy (1 = off)
  --dp <mode>                DP-FedAvg: central | local (off)
  --dp-clip <S> --dp-noise <z> --dp-delta <d> --dp-target-epsilon <e>
                             DP clip norm (1), noise multiplier (1), delta (1e-5), target epsilon (none)
  --compression <c>          none | int8 | topk:<ratio> (none)
  --secagg                   secure aggregation of every round (simulate only, fedavg, no DP)
  --seed <s>                 seed (0)
  --out <dir>                where rounds.csv and accuracy.svg go (out/mnist)`

interface Options {
  mode: 'simulate' | 'mesh'
  clients: number
  nodes: number
  fraction: number
  epochs: number
  batchSize: number
  rounds: number
  learningRate: number
  partition: string
  strategy: string
  minParticipants?: number
  deadlineMs: number
  byzantine: number
  attack: string
  bucketSize: number
  rootExamples: number
  trustWeighting: 'cosine' | 'sign'
  seed: number
  out: string
  dp?: Record<string, unknown>
  compression?: string
  secagg: boolean
}

function trustWeightingFlag (value: string | undefined): 'cosine' | 'sign' {
  if (value === undefined || value === 'cosine' || value === 'sign') return value ?? 'cosine'
  throw new UsageError(`--trust-weighting must be cosine or sign, got "${value}"`)
}

function parse (argv: string[]): Options | undefined {
  const s = { type: 'string' } as const
  const { values, positionals } = parseFlags(argv, {
    mode: s, clients: s, nodes: s, fraction: s, epochs: s, batch: s, rounds: s, lr: s, partition: s, strategy: s,
    'min-participants': s, deadline: s, byzantine: s, attack: s, seed: s, out: s, 'bucket-size': s, 'root-examples': s, 'trust-weighting': s, help: { type: 'boolean', short: 'h' },
    dp: s, 'dp-clip': s, 'dp-noise': s, 'dp-delta': s, 'dp-target-epsilon': s, compression: s, secagg: { type: 'boolean' }
  }, true)
  if (values.help === true) { process.stdout.write(EXPERIMENT_HELP + '\n'); return undefined }
  if (positionals[0] !== 'mnist' || positionals.length > 1) throw new UsageError('usage: edge-mesh experiment mnist [options]')
  const mode = values.mode ?? 'simulate'
  if (mode !== 'simulate' && mode !== 'mesh') throw new UsageError('--mode must be simulate or mesh')
  if (mode === 'mesh' && values.secagg === true) throw new UsageError('--secagg runs in simulate mode only so far')
  return {
    mode,
    clients: intFlag('clients', values.clients, 1, 8000) ?? 100,
    nodes: intFlag('nodes', values.nodes, 1, 64) ?? 4,
    fraction: numberFlag('fraction', values.fraction, 1e-9, 1) ?? 0.1,
    epochs: intFlag('epochs', values.epochs, 1, 1000) ?? 1,
    batchSize: intFlag('batch', values.batch, 0, 8000) ?? 10,
    rounds: intFlag('rounds', values.rounds, 1, 10_000) ?? 20,
    learningRate: numberFlag('lr', values.lr, 1e-9, 100) ?? 0.05,
    partition: values.partition ?? 'iid',
    strategy: values.strategy ?? 'fedavg',
    minParticipants: intFlag('min-participants', values['min-participants'], 1, 8000),
    deadlineMs: intFlag('deadline', values.deadline, 100, 86_400_000) ?? 120_000,
    byzantine: numberFlag('byzantine', values.byzantine, 0, 1) ?? 0,
    attack: values.attack ?? 'signflip',
    bucketSize: intFlag('bucket-size', values['bucket-size'], 1, 1000) ?? 1,
    rootExamples: intFlag('root-examples', values['root-examples'], 1, 8000) ?? 100,
    trustWeighting: trustWeightingFlag(values['trust-weighting']),
    seed: intFlag('seed', values.seed, 0, 0xFFFFFFFF) ?? 0,
    out: values.out ?? 'out/mnist',
    dp: dpFrom(values),
    compression: values.compression,
    secagg: values.secagg === true
  }
}

function reachedLines (records: Array<Pick<RoundRecord, 'round' | 'accuracy'>>): string {
  return roundsToTargets(records as RoundRecord[], [0.85, 0.9, 0.95])
    .map((t) => `accuracy ${t.target}: ${t.round === null ? 'not reached' : `round ${t.round}`}`).join('\n')
}

async function simulate (o: Options): Promise<void> {
  const progress = progressPrinter(process.stdout.isTTY === true)
  const result = await runMnistExperiment({
    mode: 'simulate', clients: o.clients, fraction: o.fraction, epochs: o.epochs, batchSize: o.batchSize, rounds: o.rounds,
    learningRate: o.learningRate, partition: o.partition, strategy: o.strategy as any, seed: o.seed, minParticipants: o.minParticipants,
    byzantineFraction: o.byzantine, attack: o.attack, outDir: o.out, strategyOptions: { bucketSize: o.bucketSize, seed: o.seed, trustWeighting: o.trustWeighting },
    rootExamples: o.rootExamples,
    dp: o.dp as any, compression: o.compression, secureAggregation: o.secagg ? {} : undefined,
    onRound: (r) => { progress.round(roundSummary(r), { rounds: o.rounds } as RunSummary) }
  })
  progress.done()
  process.stdout.write(`${reachedLines(result.records)}\nwall time ${(result.wallMs / 1000).toFixed(1)} s; wrote ${result.files.join(', ')}\n`)
}

function asRecord (r: RoundSummary): RoundRecord {
  const privacy = r.epsilon === undefined ? {} : { privacy: { epsilon: r.epsilon, delta: r.delta ?? Number.NaN, sampleRate: Number.NaN, noiseMultiplier: Number.NaN } }
  return { ...r, failureReasons: [], attempts: 1, slowestTrainMs: 0, ...privacy }
}

/** Nodes that run the attack in mesh mode: the last round(f * (N - 1)) nodes, never the coordinator (node 0). */
export function byzantineNodes (nodes: number, fraction: number): Set<number> {
  const n = Math.min(nodes - 1, Math.round(fraction * (nodes - 1)))
  return new Set(Array.from({ length: n }, (_, i) => nodes - 1 - i))
}

async function startMesh (o: Options, dir: string): Promise<NodeProcess[]> {
  const nodes: NodeProcess[] = []
  const byzantine = byzantineNodes(o.nodes, o.byzantine)
  for (let j = 0; j < o.nodes; j++) {
    const data = shardSpecs(j, o.nodes, o.clients, o.partition, o.seed)
    // Node 0 coordinates; the others bootstrap from it, which makes them trust it as their coordinator.
    const args = ['--name', `fed-${j}`, '--preset', 'local-test', '--api-port', '0', '--no-mdns',
      '--listen', `/ip4/${loopbackAddress(j)}/tcp/0`, '--data-dir', join(dir, `node-${j}`),
      ...(data === '' ? [] : ['--data', data]), ...(j === 0 ? [] : ['--bootstrap', addressOn(nodes[0], loopbackAddress(0))]),
      ...(byzantine.has(j) ? ['--byzantine', o.attack] : [])]
    nodes.push(await startNodeProcess({ command: j === 0 ? 'seed' : 'start', args }))
    process.stdout.write(`node ${j} ${nodes[j].peerId} ${data === '' ? '(no data)' : `(${data.split(',').length} clients)`}${byzantine.has(j) ? ` byzantine: ${o.attack}` : ''}\n`)
  }
  return nodes
}

async function mesh (o: Options): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-mesh-experiment-'))
  const nodes: NodeProcess[] = []
  const controller = new AbortController()
  const onSignal = (): void => { controller.abort() }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    nodes.push(...await startMesh(o, dir))
    const api = nodes[0].apiUrl
    const started = await callApi(api, '/federated/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        rounds: o.rounds, epochs: o.epochs, batchSize: o.batchSize, learningRate: o.learningRate, fraction: o.fraction,
        minParticipants: o.minParticipants, roundDeadlineMs: o.deadlineMs, strategy: o.strategy, seed: o.seed,
        waitForClients: o.clients, trustWeighting: o.trustWeighting,
        ...(o.strategy === 'fltrust' ? { rootData: `mnist:0/${Math.max(1, Math.round(8000 / o.rootExamples))}:seed=${o.seed + 1}` } : {}),
        ...(o.dp === undefined ? {} : { dp: o.dp }),
        ...(o.compression === undefined ? {} : { compression: o.compression })
      }),
      signal: controller.signal
    })
    const t0 = performance.now()
    const progress = progressPrinter(process.stdout.isTTY === true)
    const run = await followRun(api, started.id, progress.round, controller.signal)
    progress.done()
    const wallMs = performance.now() - t0
    const records = run.history.map(asRecord)
    await mkdir(o.out, { recursive: true })
    await writeFile(join(o.out, 'rounds.csv'), roundsToCsv(records))
    const title = `MNIST ${o.strategy} on ${o.nodes} nodes, K=${o.clients}, C=${o.fraction}, ${o.partition}`
    await writeFile(join(o.out, 'accuracy.svg'), lineChartSvg([{ name: 'held-out accuracy', points: records.map((r) => ({ x: r.round, y: r.accuracy })) }], { title, targets: [0.85, 0.9, 0.95] }))
    const bytes = records.reduce((n, r) => n + r.bytesUp + r.bytesDown, 0)
    process.stdout.write(`run ${run.id} ${run.state}${run.error === undefined ? '' : ` (${run.error.name}: ${run.error.message})`}\n` +
      `${reachedLines(records)}\nwall time ${(wallMs / 1000).toFixed(1)} s, ${(bytes / 1e6).toFixed(1)} MB moved; wrote ${join(o.out, 'rounds.csv')}, ${join(o.out, 'accuracy.svg')}\n`)
    if (run.state !== 'completed') process.exitCode = 1
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    await Promise.all(nodes.map(async (n) => n.stop()))
    await rm(dir, { recursive: true, force: true })
  }
}

export async function runExperiment (argv: string[]): Promise<void> {
  const o = parse(argv)
  if (o === undefined) return
  if (o.mode === 'simulate') await simulate(o)
  else await mesh(o)
}
