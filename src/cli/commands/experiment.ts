/**
 * `edge-mesh experiment mnist`: McMahan et al.'s MNIST experiment, simulated
 * (virtual clients in this process) or on a real mesh of N local node
 * processes (experiment-mesh.ts). Both write rounds.csv as rounds complete,
 * and accuracy.svg and loss.svg; `--strategy a,b` runs each strategy and
 * plots them together.
 */
import { STRATEGY_NAMES } from '../../federated/strategies/create-strategy.js'
import { planSampling } from '../../federated/sampling.js'
import { ExperimentOutputs } from '../../experiments/outputs.js'
import { roundsToTargets } from '../../experiments/csv.js'
import { settingsLine } from '../../experiments/plot.js'
import { intFlag, numberFlag, parseFlags } from '../args.js'
import { UsageError } from '../errors.js'
import { dpFrom, progressPrinter, runFailed, secAggFrom } from './train.js'
import { runMeshExperiment } from './experiment-mesh.js'
import type { RoundRecord } from '../../federated/run-types.js'
import type { RunSummary } from '../../federated/mesh/service-types.js'
import type { MeshExperiment } from './experiment-mesh.js'

export { byzantineNodes } from './experiment-mesh.js'
export const EXPERIMENT_HELP = `Usage: edge-mesh experiment mnist [options]
MNIST federated averaging (McMahan et al.): K clients on digits 0..7999, evaluated on 8000..9999.
  --mode simulate|mesh       virtual clients here, or N real node processes (simulate)
  --clients <K>              clients (100)
  --nodes <N>                node processes in mesh mode; node j holds shards j, j+N, ... (4)
  --coordinator-only         mesh: node 0 coordinates and holds no data; clients go to nodes 1..N-1 (off)
  --concurrency <n>          simulate: clients trained at once (1); results are the same as one at a time
  --fraction <C>             fraction of clients per round (1 with at most 10 clients, else 0.1)
  --epochs <E> --batch <B>   local epochs and batch size (1, 10)
  --rounds <R>               rounds (20)
  --lr <x>                   learning rate (0.05)
  --partition <p>            iid | noniid | dirichlet:<alpha> (iid)
  --strategy <name>[,<name>] fedavg|fedsgd|fedmedian|trimmed-mean|krum|fltrust (fedavg); several run one
                             after another and share the plots (rounds-<name>.csv each)
  --root-examples <n>        fltrust: digits in the coordinator's root data set (100)
  --trust-weighting <w>      fltrust: cosine (the paper's) | sign (cosine)
  --min-participants <n>     fewest updates per round (every sampled client with fraction 1, else 2)
  --deadline <ms>            per-round deadline in mesh mode (120000)
  --byzantine <f>            fraction of byzantine clients (0); in mesh mode, of the nodes after the
                             coordinator, each started with --byzantine <attack> (attacks never travel on the wire)
  --attack <name>            signflip|scale|noise|labelflip (signflip)
  --bucket-size <s>          average updates in random buckets of s before a robust strategy (1 = off)
  --dp <mode>                DP-FedAvg: central | local (off)
  --dp-clip <S> --dp-noise <z> --dp-delta <d> --dp-target-epsilon <e>
                             DP clip norm (1), noise multiplier (1), delta (1e-5), target epsilon (none)
  --compress <c>             participants compress their updates: none | int8 | topk:<ratio>[,key=value…] (none);
                             e.g. topk:0.01,momentum=0,warmup=0,staleness=1,average=senders for rare
                             participation (docs/privacy.md); --compression is the same flag
  --secagg                   secure aggregation (SecAgg+) of every round (fedavg; with --dp central in mesh mode only);
                             in mesh mode node 0 then only coordinates (as with --coordinator-only):
                             its own clients' updates would reach it in the clear
  --secagg-threshold <t>     secagg: shares that recover a secret, per neighbourhood (floor(neighbours/2) + 1)
  --secagg-neighbours <k>    secagg: neighbours per client (2 * ceil(log2 n), at most n - 1; up to 32)
  --seed <s>                 seed (0)
  --out <dir>                where rounds.csv, accuracy.svg and loss.svg go (out/mnist)
rounds.csv gets each round as it completes (round 0 is the initial model); Ctrl-C keeps them.
Exits 1 when a run fails, is aborted or cancelled.`

export interface Options extends MeshExperiment {
  mode: 'simulate' | 'mesh'
  concurrency: number
  bucketSize: number
  out: string
  compression?: string
  secagg: boolean
}

function strategiesFlag (value: string | undefined): string[] {
  const names = (value ?? 'fedavg').split(',').map((n) => n.trim())
  for (const n of names) if (!(STRATEGY_NAMES as readonly string[]).includes(n)) throw new UsageError(`--strategy: expected ${STRATEGY_NAMES.join(', ')}, got "${n}"`)
  if (new Set(names).size !== names.length) throw new UsageError('--strategy names a strategy twice')
  return names
}

function trustWeightingFlag (value: string | undefined): 'cosine' | 'sign' {
  if (value === undefined || value === 'cosine' || value === 'sign') return value ?? 'cosine'
  throw new UsageError(`--trust-weighting must be cosine or sign, got "${value}"`)
}

/** `--compress` as train spells it, or `--compression` (this command's older spelling); both at once must agree. */
function compressionFlag (compress: string | undefined, compression: string | undefined): string | undefined {
  if (compress !== undefined && compression !== undefined && compress !== compression) {
    throw new UsageError(`--compress ${compress} and --compression ${compression} disagree; give one`)
  }
  return compress ?? compression
}

/** The experiment's options from its arguments, or undefined after printing --help. */
export function parseExperimentArgs (argv: string[]): Options | undefined {
  const s = { type: 'string' } as const
  const { values, positionals } = parseFlags(argv, {
    mode: s, clients: s, nodes: s, fraction: s, epochs: s, batch: s, rounds: s, lr: s, partition: s, strategy: s,
    'min-participants': s, deadline: s, byzantine: s, attack: s, seed: s, out: s, 'bucket-size': s, 'root-examples': s, 'trust-weighting': s, help: { type: 'boolean', short: 'h' },
    dp: s, 'dp-clip': s, 'dp-noise': s, 'dp-delta': s, 'dp-target-epsilon': s, compress: s, compression: s, secagg: { type: 'boolean' }, 'secagg-threshold': s, 'secagg-neighbours': s,
    concurrency: s, 'coordinator-only': { type: 'boolean' }
  }, true)
  if (values.help === true) { process.stdout.write(EXPERIMENT_HELP + '\n'); return undefined }
  if (positionals[0] !== 'mnist' || positionals.length > 1) throw new UsageError('usage: edge-mesh experiment mnist [options]')
  const mode = values.mode ?? 'simulate'
  if (mode !== 'simulate' && mode !== 'mesh') throw new UsageError('--mode must be simulate or mesh')
  if (values.secagg !== true && (values['secagg-threshold'] !== undefined || values['secagg-neighbours'] !== undefined)) throw new UsageError('--secagg-threshold and --secagg-neighbours need --secagg')
  if (mode === 'simulate' && values['coordinator-only'] === true) throw new UsageError('--coordinator-only is for --mode mesh (simulated clients have no coordinator node)')
  if (mode === 'mesh' && values.concurrency !== undefined) throw new UsageError('--concurrency is for --mode simulate (in mesh mode each node trains its own clients)')
  const nodes = intFlag('nodes', values.nodes, 1, 64) ?? 4
  // a secure mesh run trains no client on the coordinator (its own clients' updates would reach it in the clear)
  const coordinatorOnly = values['coordinator-only'] === true || (mode === 'mesh' && values.secagg === true)
  if (coordinatorOnly && nodes < 2) throw new UsageError(`${values.secagg === true ? '--secagg' : '--coordinator-only'} in mesh mode needs --nodes 2 or more`)
  return {
    mode,
    clients: intFlag('clients', values.clients, 1, 8000) ?? 100,
    nodes,
    coordinatorOnly,
    concurrency: intFlag('concurrency', values.concurrency, 1, 64) ?? 1,
    fraction: numberFlag('fraction', values.fraction, 1e-9, 1),
    epochs: intFlag('epochs', values.epochs, 1, 1000) ?? 1,
    batchSize: intFlag('batch', values.batch, 0, 8000) ?? 10,
    rounds: intFlag('rounds', values.rounds, 1, 10_000) ?? 20,
    learningRate: numberFlag('lr', values.lr, 1e-9, 100) ?? 0.05,
    partition: values.partition ?? 'iid',
    strategies: strategiesFlag(values.strategy),
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
    compression: compressionFlag(values.compress, values.compression),
    secagg: values.secagg === true,
    secureAggregation: secAggFrom(values)
  }
}

function reachedLines (records: Array<Pick<RoundRecord, 'round' | 'accuracy'>>): string {
  return roundsToTargets(records as RoundRecord[], [0.85, 0.9, 0.95])
    .map((t) => `accuracy ${t.target}: ${t.round === null ? 'not reached' : `round ${t.round}`}`).join('\n')
}

function outputsFor (o: Options): ExperimentOutputs {
  const where = o.mode === 'mesh' ? `${o.nodes} nodes${o.coordinatorOnly ? ' (data-less coordinator)' : ''}` : 'simulated clients'
  const names = o.strategies.join(' vs ')
  return new ExperimentOutputs({
    dir: o.out,
    series: o.strategies,
    title: `MNIST ${names} on ${where}`,
    subtitle: settingsLine({
      clients: o.clients, fraction: planSampling(o.clients, o.fraction, o.minParticipants).fraction,
      epochs: o.epochs, batchSize: o.batchSize, learningRate: o.learningRate, partition: o.partition, seed: o.seed
    }),
    targets: [0.85, 0.9, 0.95],
    dp: o.dp !== undefined
  })
}

/** The simulation's secure aggregation from the run spec field (`neighbours` is the SecAgg+ degree). */
function simulatedSecAgg (spec: Record<string, unknown> | undefined): { threshold?: number, degree?: number } | undefined {
  if (spec === undefined) return undefined
  return { threshold: spec.threshold as number | undefined, degree: spec.neighbours as number | undefined }
}

async function simulate (o: Options, outputs: ExperimentOutputs): Promise<void> {
  for (const strategy of o.strategies) {
    const progress = progressPrinter(process.stdout.isTTY === true)
    // Loaded here, not at the top: `experiment --help` must not load TF.js.
    const { runMnistExperiment } = await import('../../experiments/mnist.js')
    const { roundSummary } = await import('../../federated/mesh/runs.js')
    const result = await runMnistExperiment({
      mode: 'simulate', clients: o.clients, fraction: o.fraction, epochs: o.epochs, batchSize: o.batchSize, rounds: o.rounds,
      learningRate: o.learningRate, partition: o.partition, strategy: strategy as any, seed: o.seed, minParticipants: o.minParticipants,
      byzantineFraction: o.byzantine, attack: o.attack, strategyOptions: { bucketSize: o.bucketSize, seed: o.seed, trustWeighting: o.trustWeighting },
      rootExamples: o.rootExamples, concurrency: o.concurrency,
      dp: o.dp as any, compression: o.compression, secureAggregation: simulatedSecAgg(o.secureAggregation),
      onPlan: (plan) => { progress.note(`${strategy}: sampling ${plan.reason}`) },
      onInitial: (r) => { outputs.add(strategy, r) },
      onRound: (r) => {
        outputs.add(strategy, r)
        progress.round(roundSummary(r), { rounds: o.rounds } as RunSummary)
      }
    })
    progress.done()
    process.stdout.write(`${o.strategies.length > 1 ? `${strategy}:\n` : ''}${reachedLines(result.records)}\nwall time ${(result.wallMs / 1000).toFixed(1)} s (${result.records.length} rounds and evaluations; no start-up in simulate mode)\n`)
  }
  process.stdout.write(`wrote ${outputs.files().join(', ')}\n`)
}

export async function runExperiment (argv: string[]): Promise<void> {
  const o = parseExperimentArgs(argv)
  if (o === undefined) return
  const outputs = outputsFor(o)
  if (o.mode === 'simulate') {
    await simulate(o, outputs)
    return
  }
  const runs = await runMeshExperiment(o, outputs, reachedLines)
  if (process.exitCode === undefined && (runs.length < o.strategies.length || runs.some(runFailed) || runs.some((r) => r.state !== 'completed'))) process.exitCode = 1
}
