/** `edge-mesh train`: start a federated run through a node and follow it round by round; `train status`; `train stop`. */
import { intFlag, numberFlag, parseFlags } from '../args.js'
import { DEFAULT_API_URL, callApi } from '../api-client.js'
import { UsageError } from '../errors.js'
import { printable, printableJson, shortId, table } from '../output.js'
import { formatRoundBytes, formatRoundPrivacy } from '../../federated/privacy/format.js'
import { INTERRUPTED_EXIT_CODE, interruptModeFlag, onInterrupts } from './train-interrupt.js'
import type { RoundSummary, RunSummary } from '../../federated/mesh/service-types.js'

export const TRAIN_HELP = `Usage: edge-mesh train --rounds R [options]
       edge-mesh train status [<run id>] [--json]
       edge-mesh train stop <run id>
Start a federated run on the mesh (coordinated by a trusted seed when one is
connected, else by the node asked) and show its progress round by round.
"train stop" cancels a run mesh-wide: its coordinator stops it and tells its
participants; a cancelled run is never resumed.
  --rounds <R>               rounds to run (5)
  --epochs <E>               local epochs per round (1)
  --batch <B>                local batch size, 0 = all local data (10)
  --lr <x>                   learning rate (0.05)
  --fraction <C>             fraction of clients asked per round (1 with at most 10 clients at the
                             start, else 0.1; the run prints what it chose and why)
  --min-participants <n>     fewest updates a round aggregates (every sampled client with fraction 1, else 2)
  --deadline <ms>            per-round deadline (60000)
  --strategy <name>          fedavg|fedsgd|fedmedian|trimmed-mean|krum|fltrust (fedavg)
  --root-data <name>         fltrust: the coordinator's root dataset, by name (--data <name>=<spec> on the
                             coordinator) or a built-in mnist: spec such as mnist:0/80 (required by fltrust)
  --eval-data <name>         held-out dataset the coordinator evaluates on, by name or mnist: spec (mnist:test)
  --trust-weighting <w>      fltrust: cosine (the paper's) | sign (cosine)
  --proximal-mu <mu>         FedProx proximal term (0)
  --model <id>               content id of the base model (a fresh 784-200-200-10 MLP)
  --base <name>              fine-tune only a new head on this packaged model's frozen base, computed
                             locally by every participant (nsfwjs:mobilenet_v2, edge-mesh:mnist-mlp); needs --head-classes
  --head-classes <k>         classes of the new head
  --head-hidden <w,...>      hidden layer widths of the head (64)
  --head-layer <name>        the base's layer the features come from (the packaged model's feature layer)
  --head-examples <n>        examples per client to compute features of (256)
  --head-eval-examples <n>   held-out examples the coordinator evaluates on (200)
  --seed <s>                 seed of sampling and initialisation (0)
  --wait-for-clients <n>     clients to wait for before round 1 (min participants)
  --dp <mode>                client-level differential privacy (DP-FedAvg): central | local (off)
  --dp-clip <S>              DP: L2 bound of each client's update (1)
  --dp-noise <z>             DP: noise multiplier (1)
  --dp-delta <d>             DP: delta of the reported (epsilon, delta) (1e-5)
  --dp-target-epsilon <e>    DP: stop before a round would pass this epsilon (no limit)
  --compress <c>             participants compress their updates: none | int8 | topk:<ratio>[,key=value…] (none);
                             keys: momentum, clip, warmup, warmupDensity, staleness, average=all|senders
  --secagg                   secure aggregation (SecAgg+): the coordinator learns only the weighted sum (fedavg, no DP)
  --secagg-threshold <t>     secagg: shares that recover a secret, per neighbourhood (floor(neighbours/2) + 1)
  --secagg-neighbours <k>    secagg: neighbours per client (2 * ceil(log2 n), at most n - 1; up to 32)
  --api <url>                control API of the node to ask (${DEFAULT_API_URL})
  --no-wait                  print the run id and return at once
  --on-interrupt <what>      Ctrl-C while following: stop (cancel the run mesh-wide) | detach (leave it
                             running and print the train stop command) (stop when interactive, else detach);
                             a second Ctrl-C exits at once
  --json                     (status) print raw JSON
"train", and "train status <id>", exit 1 when the run failed, was aborted or cancelled.`

const POLL_MS = 500

function apiOf (values: Record<string, any>): string {
  return values.api ?? process.env.EDGE_MESH_API ?? DEFAULT_API_URL
}

/** One plain progress line for a round (ε and bytes up as `src/federated/privacy/format.ts` writes them). */
export function roundLine (r: RoundSummary, rounds: number): string {
  return `round ${r.round}/${rounds}  participants ${r.participants}  failures ${r.failures}  accuracy ${r.accuracy.toFixed(3)}  loss ${r.loss.toFixed(2)}${formatRoundPrivacy(r)}${formatRoundBytes(r)}${formatRoundTime(r)}  global ${printable(String(r.globalModelId).slice(0, 15))}…`
}

/** The round's wall time, as docs/cli.md promises beside its bytes (nothing when a peer sent no finite time). */
function formatRoundTime (r: { wallMs?: number }): string {
  return typeof r.wallMs === 'number' && Number.isFinite(r.wallMs) && r.wallMs >= 0 ? `  ${(r.wallMs / 1000).toFixed(2)} s` : ''
}

function bar (done: number, total: number, width = 20): string {
  const filled = Math.round(width * Math.min(1, done / Math.max(1, total)))
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`
}

/** The lines a run's summary says beside its rounds: how it samples, what it waits for, round 0. */
export function runNotes (run: RunSummary): string[] {
  const initial = run.initial === undefined ? '' : `round 0 (initial model): accuracy ${run.initial.accuracy.toFixed(3)}  loss ${run.initial.loss.toFixed(2)}`
  return [run.sampling === undefined ? '' : `sampling: ${run.sampling}`, run.waiting ?? '', initial].filter((l) => l !== '').map(printable)
}

/**
 * Poll a run until it ends, calling `onRound` once per new round and `onNote`
 * once per new note (`runNotes`); returns the final summary. A run not known
 * yet (gossip still on its way) is retried for 30 s.
 */
export async function followRun (api: string, id: string, onRound: (r: RoundSummary, run: RunSummary) => void, signal?: AbortSignal, onNote?: (line: string) => void): Promise<RunSummary> {
  let shown = 0
  const noted = new Set<string>()
  const unknownUntil = Date.now() + 30_000
  for (;;) {
    signal?.throwIfAborted()
    let run: RunSummary | undefined
    try {
      run = await callApi(api, `/federated/runs/${encodeURIComponent(id)}`)
    } catch (err: any) {
      if (err?.name !== 'RunNotFoundError' || Date.now() > unknownUntil) throw err
    }
    if (run !== undefined) {
      for (const note of runNotes(run)) {
        if (!noted.has(note)) onNote?.(note)
        noted.add(note)
      }
      for (const r of run.history.filter((h) => h.round > shown).sort((a, b) => a.round - b.round)) {
        onRound(r, run)
        shown = r.round
      }
      if (run.state !== 'running') return run
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

/** Print progress: a rewritten one-line bar on a TTY, plain lines otherwise; notes on lines of their own. */
export function progressPrinter (tty: boolean): { round: (r: RoundSummary, run: RunSummary) => void, note: (line: string) => void, done: () => void } {
  let open = false
  return {
    round: (r, run) => {
      if (tty) process.stdout.write(`\r${bar(r.round, run.rounds)} ${roundLine(r, run.rounds)}\x1b[K`)
      else process.stdout.write(roundLine(r, run.rounds) + '\n')
      open = tty
    },
    note: (line) => {
      process.stdout.write(`${open ? '\n' : ''}${line}\n`)
      open = false
    },
    done: () => { if (open) process.stdout.write('\n') }
  }
}

/** States of a run that ended without completing: `train`, `train status <id>` and `experiment` exit 1 for them. */
export function runFailed (run: Pick<RunSummary, 'state'>): boolean {
  return run.state === 'failed' || run.state === 'aborted' || run.state === 'cancelled'
}

/** The `dp` run spec field from the `--dp*` flags (shared with `edge-mesh experiment`). */
export function dpFrom (values: Record<string, any>): Record<string, unknown> | undefined {
  if (values.dp === undefined) return undefined
  return {
    mode: values.dp,
    clipNorm: numberFlag('dp-clip', values['dp-clip'], 1e-12, 1e6),
    noiseMultiplier: numberFlag('dp-noise', values['dp-noise'], 0, 1e6),
    delta: numberFlag('dp-delta', values['dp-delta'], 1e-300, 0.5),
    targetEpsilon: numberFlag('dp-target-epsilon', values['dp-target-epsilon'], 1e-12, 1e6)
  }
}

/** The `secureAggregation` run spec field from the `--secagg*` flags (train and experiment share them). */
export function secAggFrom (values: Record<string, any>): Record<string, unknown> | undefined {
  if (values.secagg !== true) return undefined
  const out: Record<string, unknown> = {
    threshold: intFlag('secagg-threshold', values['secagg-threshold'], 1, 32),
    neighbours: intFlag('secagg-neighbours', values['secagg-neighbours'], 1, 32)
  }
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k]
  return out
}

/** The `head` run spec field from the `--head-*` flags (with `--base`). */
function headFrom (values: Record<string, any>): Record<string, unknown> | undefined {
  if (values.base === undefined) return undefined
  const hidden = values['head-hidden'] === undefined ? undefined : String(values['head-hidden']).split(',').map((w: string) => intFlag('head-hidden', w, 1, 4096))
  const head: Record<string, unknown> = {
    classes: intFlag('head-classes', values['head-classes'], 2, 1000),
    hidden,
    layer: values['head-layer'],
    examples: intFlag('head-examples', values['head-examples'], 1, 1_000_000),
    evalExamples: intFlag('head-eval-examples', values['head-eval-examples'], 1, 1_000_000)
  }
  if (head.classes === undefined) throw new UsageError('--base needs --head-classes <k>')
  for (const k of Object.keys(head)) if (head[k] === undefined) delete head[k]
  return head
}

function specFrom (values: Record<string, any>): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    rounds: intFlag('rounds', values.rounds, 1, 100_000) ?? 5,
    epochs: intFlag('epochs', values.epochs, 1, 1000),
    batchSize: intFlag('batch', values.batch, 0, 1_000_000),
    learningRate: numberFlag('lr', values.lr, 1e-9, 100),
    fraction: numberFlag('fraction', values.fraction, 1e-9, 1),
    minParticipants: intFlag('min-participants', values['min-participants'], 1, 100_000),
    roundDeadlineMs: intFlag('deadline', values.deadline, 100, 86_400_000),
    strategy: values.strategy ?? 'fedavg',
    proximalMu: numberFlag('proximal-mu', values['proximal-mu'], 0, 1e6),
    model: values.model,
    seed: intFlag('seed', values.seed, 0, 0xFFFFFFFF),
    waitForClients: intFlag('wait-for-clients', values['wait-for-clients'], 0, 100_000),
    rootData: values['root-data'],
    evalData: values['eval-data'],
    trustWeighting: values['trust-weighting'],
    dp: dpFrom(values),
    compression: values.compress,
    secureAggregation: secAggFrom(values),
    base: values.base,
    head: headFrom(values)
  }
  for (const k of Object.keys(spec)) if (spec[k] === undefined) delete spec[k]
  return spec
}

/** The last lines of a followed run: how it ended and its global model, if any round completed. */
export function finalLine (run: RunSummary): string {
  const last = run.history.at(-1)
  const head = `run ${run.id} ${run.state} after ${run.completedRounds}/${run.rounds} rounds`
  const acc = last === undefined ? '' : `, accuracy ${last.accuracy.toFixed(3)}`
  const err = run.error === undefined ? '' : ` (${run.error.name}: ${run.error.message})`
  const dp = run.privacy === undefined ? '' : `, ε ${run.privacy.epsilon.toFixed(2)} (δ ${run.privacy.delta})${run.stopReason === 'target-epsilon' ? ', stopped at the target ε' : ''}`
  // Before round 1 the summary's model is the untrained base model: never show it as the run's result.
  const model = run.completedRounds === 0 || last === undefined
    ? 'no global model: no round completed'
    : `${run.state === 'completed' ? 'global model' : `last global model (round ${last.round})`} ${printable(String(last.globalModelId))}`
  // Run ids, error texts and model ids can come from peers (run gossip): escape what a terminal would interpret.
  return `${printable(head)}${acc}${dp}${printable(err)}\n${model}`
}

async function runStatus (argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, { api: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, true)
  if (values.help === true) { process.stdout.write(TRAIN_HELP + '\n'); return }
  const api = apiOf(values)
  if (positionals.length > 1) throw new UsageError('train status takes at most one run id')
  const id = positionals[0]
  const body = id === undefined ? await callApi(api, '/federated/runs') : await callApi(api, `/federated/runs/${encodeURIComponent(id)}`)
  if (values.json === true) { process.stdout.write(printableJson(body) + '\n'); return }
  if (id !== undefined) {
    const run = body as RunSummary
    process.stdout.write([...runNotes(run), ...run.history.map((r) => roundLine(r, run.rounds)), finalLine(run)].join('\n') + '\n')
    if (runFailed(run)) process.exitCode = 1
    return
  }
  const runs = (body.runs as RunSummary[])
  process.stdout.write(runs.length === 0
    ? 'no federated runs known\n'
    : table(['RUN', 'STATE', 'STRATEGY', 'ROUNDS', 'ACCURACY', 'COORDINATOR'], runs.map((r) => [
      r.id, r.waiting === undefined ? r.state : 'waiting-for-clients', r.strategy, `${r.completedRounds}/${r.rounds}`, r.history.at(-1)?.accuracy.toFixed(3) ?? '-', shortId(r.coordinator)
    ])) + '\n')
}

async function runStop (argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, { api: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, true)
  if (values.help === true) { process.stdout.write(TRAIN_HELP + '\n'); return }
  if (positionals.length !== 1) throw new UsageError('train stop takes one run id')
  const run: RunSummary = await callApi(apiOf(values), `/federated/runs/${encodeURIComponent(positionals[0])}`, { method: 'DELETE' })
  process.stdout.write(`run ${run.id} ${run.state === 'running' ? 'cancel requested from its coordinator ' + shortId(run.coordinator) : run.state}\n`)
}

export async function runTrain (argv: string[]): Promise<void> {
  if (argv[0] === 'status') { await runStatus(argv.slice(1)); return }
  if (argv[0] === 'stop') { await runStop(argv.slice(1)); return }
  const { values } = parseFlags(argv, {
    rounds: { type: 'string' }, epochs: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' },
    fraction: { type: 'string' }, 'min-participants': { type: 'string' }, deadline: { type: 'string' },
    strategy: { type: 'string' }, 'proximal-mu': { type: 'string' }, 'root-data': { type: 'string' }, 'eval-data': { type: 'string' }, 'trust-weighting': { type: 'string' }, model: { type: 'string' }, seed: { type: 'string' },
    'wait-for-clients': { type: 'string' }, api: { type: 'string' }, 'on-interrupt': { type: 'string' },
    base: { type: 'string' }, 'head-classes': { type: 'string' }, 'head-hidden': { type: 'string' }, 'head-layer': { type: 'string' },
    'head-examples': { type: 'string' }, 'head-eval-examples': { type: 'string' },
    dp: { type: 'string' }, 'dp-clip': { type: 'string' }, 'dp-noise': { type: 'string' }, 'dp-delta': { type: 'string' }, 'dp-target-epsilon': { type: 'string' }, compress: { type: 'string' },
    secagg: { type: 'boolean' }, 'secagg-threshold': { type: 'string' }, 'secagg-neighbours': { type: 'string' }, wait: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }
  })
  if (values.help === true) { process.stdout.write(TRAIN_HELP + '\n'); return }
  const api = apiOf(values)
  const onInterrupt = interruptModeFlag(values['on-interrupt'])
  const started = await callApi(api, '/federated/runs', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(specFrom(values))
  })
  process.stdout.write(`run ${String(started.id)} coordinated by ${shortId(String(started.coordinator))}\n`)
  if (values.wait === false) return
  const progress = progressPrinter(process.stdout.isTTY === true)
  const interrupt = onInterrupts({ api, runId: String(started.id), mode: onInterrupt, apiGiven: values.api !== undefined, write: progress.note })
  try {
    const run = await followRun(api, started.id, progress.round, interrupt.signal, progress.note)
    progress.done()
    process.stdout.write(finalLine(run) + '\n')
    if (run.state !== 'completed') process.exitCode = 1
  } catch (err) {
    if (!interrupt.signal.aborted) throw err
    process.exitCode = INTERRUPTED_EXIT_CODE
  } finally {
    interrupt.dispose()
  }
}
