/**
 * Federated runs as the service keeps them: the run spec (what `POST
 * /federated/runs` and START carry, validated in one place), the run's files
 * in `<dataDir>/federated/<runId>/` (`run.json`: spec, coordinator, base
 * model; `summary.json`: the RunSummary after every round; the checkpoint of
 * `FileCheckpointStore`), and the conversion of round records to summaries.
 */
import { mkdir, readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../../atomic-write.js'
import { InvalidConfigError, RunFileUnreadableError } from '../../errors.js'
import { STRATEGY_NAMES } from '../strategies/create-strategy.js'
import { DATASET_NAME_PATTERN, parseDataSpecs } from './data-spec.js'
import { parseHeadSpec } from './head.js'
import { RUN_ID_PATTERN } from './protocol/constants.js'
import { parseDpOptions } from '../privacy/dp-options.js'
import { parseCompressionSpec } from '../privacy/compression.js'
import type { Compression } from '../privacy/compression.js'
import { checkSecureComposition, parseSecureAggregation } from '../privacy/secagg/options.js'
import type { SecureRunOptions } from '../privacy/secagg/workflow.js'
import type { HeadRun, HeadSpec } from './head.js'
import type { ResolvedDpOptions } from '../privacy/dp-options.js'
import type { StrategyName } from '../strategies/create-strategy.js'
import type { RoundRecord } from '../run-types.js'
import type { RoundSummary, RunSummary } from './service-types.js'
import type { MlpSpec } from '../../model/types.js'

/** A run as asked for; every field but `rounds` has a default (the core's). */
export interface RunSpec {
  /** Content id of a base model; a fresh 784-200-200-10 MLP when undefined. */
  model?: string
  rounds: number
  epochs?: number
  batchSize?: number
  learningRate?: number
  fraction?: number
  minParticipants?: number
  roundDeadlineMs?: number
  maxRoundRetries?: number
  strategy: StrategyName
  proximalMu?: number
  seed?: number
  /**
   * Held-out data the coordinator evaluates on: the name of a dataset declared
   * on the coordinator (`--data <name>=<spec>`) or a built-in `mnist:` spec,
   * never a path. @default 'mnist:test'
   */
  evalData?: string
  /** Clients to wait for before round 1. @default minParticipants */
  waitForClients?: number
  /** Trimmed-mean beta, Krum f and m. */
  beta?: number
  byzantineF?: number
  krumM?: number
  /** FLTrust's root data set at the coordinator, a dataset name or built-in spec as `evalData` (e.g. `mnist:0/80`, 100 digits); required by `fltrust`. */
  rootData?: string
  /** FLTrust's weighting: `cosine` (the paper's) or `sign`. @default 'cosine' */
  trustWeighting?: 'cosine' | 'sign'
  /** Client-level differential privacy (DP-FedAvg), central or local form. */
  dp?: ResolvedDpOptions
  /** How participants compress their updates (int8, or top-k with DGC's error feedback); undefined = float32. */
  compression?: Compression
  /** Secure aggregation (SecAgg+) of every round: the coordinator learns only the weighted sum. */
  secureAggregation?: SecureRunOptions
  /**
   * Fine-tune only a new head on this packaged model's frozen base (`head.ts`):
   * a catalog name such as `nsfwjs:mobilenet_v2`, never a path; needs `head`.
   * Every participant computes its features locally from its own installed package.
   */
  base?: string
  /** The new head trained (and federated) on the base's features; needs `base`. */
  head?: HeadSpec
}

/** What `run.json` holds. */
export interface RunRecordFile {
  version: 1
  id: string
  spec: RunSpec
  coordinator: string
  startedAt: number
  baseModelId: string
  /** The MLP created as base model (the head of a head run), so a resumed run can create it again. */
  mlp?: MlpSpec
  /** A head run's frozen base. */
  head?: HeadRun
}

function bad (field: string, why: string): never {
  throw new InvalidConfigError(`${field}: ${why}`)
}

function num (body: Record<string, unknown>, field: string, min: number, max: number, integer: boolean): number | undefined {
  const v = body[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    bad(field, `expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(v)}`)
  }
  return v
}

function str (body: Record<string, unknown>, field: string, max: number): string | undefined {
  const v = body[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string' || v === '' || v.length > max) bad(field, `expected a non-empty string of at most ${max} characters`)
  return v
}

/**
 * A data reference of a run spec: a dataset name (resolved on the coordinator)
 * or a built-in `mnist:` spec. Paths are refused here, so nothing on the wire
 * or in the API names a local file; the message never says whether one exists.
 */
function dataRef (field: string, value: string | undefined, count: 'one' | 'any'): string | undefined {
  if (value === undefined) return undefined
  if (DATASET_NAME_PATTERN.test(value)) return value
  if (value.startsWith('mnist:')) {
    const specs = parseDataSpecs(value)
    if (specs.some((s) => s.kind === 'dir')) bad(field, 'expected a dataset name or a built-in mnist: spec, not a path')
    if (count === 'one' && specs.length !== 1) bad(field, 'expected one data spec')
    return value
  }
  bad(field, 'expected the name of a dataset declared on the coordinator (--data <name>=<spec>) or a built-in mnist: spec; paths are not accepted')
}

/** Validate a run spec from JSON; throws InvalidConfigError naming the field. */
export function parseRunSpec (body: unknown): RunSpec {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) bad('body', 'expected a JSON object')
  const b = body as Record<string, unknown>
  const strategy = str(b, 'strategy', 32) ?? 'fedavg'
  if (!(STRATEGY_NAMES as readonly string[]).includes(strategy)) bad('strategy', `expected one of ${STRATEGY_NAMES.join(', ')}, got "${strategy}"`)
  const model = str(b, 'model', 128)
  if (model !== undefined && !/^sha256-[0-9a-f]{64}$/.test(model)) bad('model', 'expected a content id sha256-<64 hex>')
  const evalData = dataRef('evalData', str(b, 'evalData', 256), 'any')
  const rootData = dataRef('rootData', str(b, 'rootData', 256), 'one')
  if (strategy === 'fltrust' && rootData === undefined) bad('rootData', 'fltrust needs a root data set at the coordinator, e.g. "mnist:0/80"')
  const trustWeighting = str(b, 'trustWeighting', 16)
  if (trustWeighting !== undefined && trustWeighting !== 'cosine' && trustWeighting !== 'sign') bad('trustWeighting', `expected cosine or sign, got "${trustWeighting}"`)
  const spec: RunSpec = {
    model,
    rounds: num(b, 'rounds', 1, 100_000, true) ?? 5,
    epochs: num(b, 'epochs', 1, 1000, true),
    batchSize: num(b, 'batchSize', 0, 1_000_000, true),
    learningRate: num(b, 'learningRate', Number.MIN_VALUE, 100, false),
    fraction: num(b, 'fraction', Number.MIN_VALUE, 1, false),
    minParticipants: num(b, 'minParticipants', 1, 100_000, true),
    roundDeadlineMs: num(b, 'roundDeadlineMs', 100, 24 * 3600 * 1000, true),
    maxRoundRetries: num(b, 'maxRoundRetries', 0, 100, true),
    strategy: strategy as StrategyName,
    proximalMu: num(b, 'proximalMu', 0, 1e6, false),
    seed: num(b, 'seed', 0, 0xFFFFFFFF, true),
    evalData,
    waitForClients: num(b, 'waitForClients', 0, 100_000, true),
    beta: num(b, 'beta', 0, 0.5, false),
    byzantineF: num(b, 'byzantineF', 0, 100_000, true),
    krumM: num(b, 'krumM', 1, 100_000, true),
    rootData,
    trustWeighting: trustWeighting as RunSpec['trustWeighting'],
    dp: parseDpOptions(b.dp),
    compression: parseCompressionSpec(b.compression),
    secureAggregation: parseSecureAggregation(b.secureAggregation),
    ...parseHeadSpec(b.base, b.head)
  }
  if (spec.secureAggregation !== undefined) checkSecureComposition(strategy, spec.dp)
  if (spec.secureAggregation !== undefined && spec.base !== undefined) bad('secureAggregation', 'head runs (base and head) do not run with secure aggregation yet')
  if (spec.secureAggregation !== undefined && spec.compression?.scheme === 'topk') bad('compression', 'top-k does not compose with secure aggregation: each client keeps different coordinates, and masks only cancel over a common support (use int8: it quantizes inside the mask ring)')
  if (spec.base !== undefined && model !== undefined) bad('model', 'a head run (base and head) creates its own model; leave model out')
  if (spec.base !== undefined && strategy === 'fltrust') bad('strategy', 'FLTrust\'s root update does not compute features yet: use another strategy for a head run')
  if (b.byzantine !== undefined) bad('byzantine', 'attacks are not part of run specs; start an experiment node with --byzantine <attack> instead')
  if (spec.compression?.scheme === 'topk' && spec.compression.average === 'senders' && (spec.dp !== undefined || strategy !== 'fedavg')) bad('compression', 'average "senders" averages plain FedAvg updates: use strategy fedavg without dp')
  if (spec.dp !== undefined && strategy !== 'fedavg' && strategy !== 'fedsgd') bad('dp', `DP-FedAvg averages the clipped updates itself: use strategy fedavg or fedsgd, not ${strategy}`)
  for (const key of Object.keys(spec) as Array<keyof RunSpec>) if (spec[key] === undefined) delete spec[key]
  return spec
}

/** The summary of a run that has not completed a round yet. */
export function freshSummary (record: RunRecordFile): RunSummary {
  return {
    id: record.id, state: 'running', strategy: record.spec.strategy, rounds: record.spec.rounds, completedRounds: 0,
    coordinator: record.coordinator, globalModelId: record.baseModelId, startedAt: record.startedAt, history: []
  }
}

/** How a run with unreadable files is listed: failed, with what is wrong and none of the files' content. */
export function unreadableSummary (scanned: ScannedRun, selfId: string): RunSummary {
  const record = scanned.record
  return {
    id: scanned.id,
    state: 'failed',
    strategy: record?.spec?.strategy ?? 'unknown',
    rounds: record?.spec?.rounds ?? 0,
    completedRounds: 0,
    coordinator: record?.coordinator ?? selfId,
    globalModelId: record?.baseModelId ?? '',
    startedAt: record?.startedAt ?? 0,
    error: { name: RunFileUnreadableError.name, message: `${String(scanned.problem)}: the run is not resumed` },
    history: []
  }
}

/** One round record as the public summary shows it. */
export function roundSummary (r: RoundRecord, bytes?: { up: number, down: number }): RoundSummary {
  return {
    round: r.round,
    accuracy: r.accuracy,
    loss: r.loss,
    participants: r.participants,
    participantIds: r.participantIds ?? [],
    failures: r.failures,
    failureReasons: r.failureReasons.map((f) => `${f.clientId}: ${f.reason}`),
    wallMs: r.wallMs,
    bytesUp: bytes?.up ?? r.bytesUp,
    bytesDown: bytes?.down ?? r.bytesDown,
    globalModelId: r.globalModelId,
    ...(r.privacy === undefined ? {} : { epsilon: r.privacy.epsilon, delta: r.privacy.delta })
  }
}

async function writeJsonAtomic (path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2))
}

/** The files of runs under `<dataDir>/federated`. */
export class RunFiles {
  constructor (readonly root: string) {}

  dir (id: string): string {
    if (!RUN_ID_PATTERN.test(id)) throw new InvalidConfigError(`invalid run id "${id}"`)
    return join(this.root, id)
  }

  async create (record: RunRecordFile): Promise<void> {
    await mkdir(this.dir(record.id), { recursive: true })
    await writeJsonAtomic(join(this.dir(record.id), 'run.json'), record)
  }

  async saveSummary (summary: RunSummary): Promise<void> {
    await writeJsonAtomic(join(this.dir(summary.id), 'summary.json'), summary)
  }

  /**
   * Every run found on disk with its latest summary. A run whose files cannot
   * be read or parsed is returned with `problem` (no file content in it) so
   * the service lists it instead of dropping it.
   */
  async scan (): Promise<ScannedRun[]> {
    let names: string[]
    try {
      names = await readdir(this.root)
    } catch {
      return []
    }
    const out: ScannedRun[] = []
    for (const name of names.filter((n) => RUN_ID_PATTERN.test(n))) {
      const record = await readJson<RunRecordFile>(join(this.root, name, 'run.json'))
      if (record.problem !== undefined || record.value === undefined) {
        if (record.missing !== true) out.push({ id: name, problem: `run.json ${record.problem ?? 'is empty'}`, cause: record.cause })
        continue
      }
      if (record.value.version !== 1 || record.value.id !== name) {
        out.push({ id: name, problem: 'run.json does not describe this run' })
        continue
      }
      const summary = await readJson<RunSummary>(join(this.root, name, 'summary.json'))
      if (summary.problem !== undefined && summary.missing !== true) {
        out.push({ id: name, record: record.value, problem: `summary.json ${summary.problem}`, cause: summary.cause })
        continue
      }
      out.push({ id: name, record: record.value, summary: summary.value })
    }
    return out
  }
}

/** A run found on disk: its files, or what is wrong with them (`cause` is the raw error, for the local log only). */
export interface ScannedRun {
  id: string
  record?: RunRecordFile
  summary?: RunSummary
  problem?: string
  cause?: unknown
}

/** Read and parse a JSON file; a parse error's text (which may quote the file) is kept apart as `cause`. */
async function readJson<T> (path: string): Promise<{ value?: T, problem?: string, missing?: boolean, cause?: unknown }> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err: any) {
    return { problem: 'cannot be read', missing: err?.code === 'ENOENT', cause: err }
  }
  try {
    const value = JSON.parse(text) as T
    if (value === null || typeof value !== 'object') return { problem: 'is not a JSON object' }
    return { value }
  } catch (err) {
    return { problem: 'is not valid JSON', cause: err }
  }
}
