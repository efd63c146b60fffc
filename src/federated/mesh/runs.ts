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
import { InvalidConfigError } from '../../errors.js'
import { ATTACK_NAMES } from '../simulation/attacks.js'
import { STRATEGY_NAMES } from '../strategies/create-strategy.js'
import { FAULT_ATTACKS } from './participant.js'
import { parseDataSpecs } from './data-spec.js'
import { RUN_ID_PATTERN } from './protocol/constants.js'
import { parseDpOptions } from '../privacy/dp-options.js'
import type { ResolvedDpOptions } from '../privacy/dp-options.js'
import type { StrategyName } from '../strategies/create-strategy.js'
import type { RoundRecord } from '../run-types.js'
import type { RoundSummary, RunSummary } from './service-types.js'
import type { MlpSpec } from '../../model/types.js'

/** Byzantine clients of an experiment: those named (client or peer ids) and/or a seeded fraction. */
export interface ByzantineSpec {
  attack: string
  clients?: string[]
  fraction?: number
  scale?: number
  noiseStd?: number
}

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
  /** Held-out data the coordinator evaluates on. @default 'mnist:test' */
  evalData?: string
  /** Clients to wait for before round 1. @default minParticipants */
  waitForClients?: number
  /** Trimmed-mean beta, Krum f and m. */
  beta?: number
  byzantineF?: number
  krumM?: number
  /** FLTrust's root data set at the coordinator, a data spec (e.g. `mnist:0/80`, 100 digits); required by `fltrust`. */
  rootData?: string
  /** FLTrust's weighting: `cosine` (the paper's) or `sign`. @default 'cosine' */
  trustWeighting?: 'cosine' | 'sign'
  byzantine?: ByzantineSpec
  /** Client-level differential privacy (DP-FedAvg); only the central form runs over the mesh so far. */
  dp?: ResolvedDpOptions
}

/** What `run.json` holds. */
export interface RunRecordFile {
  version: 1
  id: string
  spec: RunSpec
  coordinator: string
  startedAt: number
  baseModelId: string
  /** The MLP created as base model, so a resumed run can create it again. */
  mlp?: MlpSpec
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

function parseByzantine (v: unknown): ByzantineSpec | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'object' || Array.isArray(v)) bad('byzantine', 'expected an object { attack, clients?, fraction? }')
  const b = v as Record<string, unknown>
  const attack = str(b, 'attack', 32) ?? 'signflip'
  if (!([...ATTACK_NAMES, ...FAULT_ATTACKS] as readonly string[]).includes(attack)) bad('byzantine.attack', `unknown attack "${attack}"`)
  const clients = b.clients
  if (clients !== undefined && (!Array.isArray(clients) || clients.length > 1024 || clients.some((c) => typeof c !== 'string' || c.length > 200))) {
    bad('byzantine.clients', 'expected a list of client or peer ids')
  }
  return { attack, clients: clients as string[] | undefined, fraction: num(b, 'fraction', 0, 1, false), scale: num(b, 'scale', -1e6, 1e6, false), noiseStd: num(b, 'noiseStd', 0, 1e6, false) }
}

/** Validate a run spec from JSON; throws InvalidConfigError naming the field. */
export function parseRunSpec (body: unknown): RunSpec {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) bad('body', 'expected a JSON object')
  const b = body as Record<string, unknown>
  const strategy = str(b, 'strategy', 32) ?? 'fedavg'
  if (!(STRATEGY_NAMES as readonly string[]).includes(strategy)) bad('strategy', `expected one of ${STRATEGY_NAMES.join(', ')}, got "${strategy}"`)
  const model = str(b, 'model', 128)
  if (model !== undefined && !/^sha256-[0-9a-f]{64}$/.test(model)) bad('model', 'expected a content id sha256-<64 hex>')
  const evalData = str(b, 'evalData', 4096)
  if (evalData !== undefined) parseDataSpecs(evalData)
  const rootData = str(b, 'rootData', 4096)
  if (rootData !== undefined && parseDataSpecs(rootData).length !== 1) bad('rootData', 'expected one data spec')
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
    byzantine: parseByzantine(b.byzantine),
    dp: parseDpOptions(b.dp)
  }
  if (spec.dp?.mode === 'local') bad('dp.mode', 'local DP runs in simulation only so far (edge-mesh experiment); use central over the mesh')
  if (spec.dp !== undefined && strategy !== 'fedavg' && strategy !== 'fedsgd') bad('dp', `DP-FedAvg averages the clipped updates itself: use strategy fedavg or fedsgd, not ${strategy}`)
  for (const key of Object.keys(spec) as Array<keyof RunSpec>) if (spec[key] === undefined) delete spec[key]
  return spec
}

/** A new run id: time and randomness, valid as a directory name. */
export function newRunId (): string {
  const rand = Math.floor(Math.random() * 0xFFFFFF).toString(16).padStart(6, '0')
  return `run-${Date.now().toString(36)}-${rand}`
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

  /** Every run found on disk with its latest summary (runs with unreadable files are skipped). */
  async scan (): Promise<Array<{ record: RunRecordFile, summary?: RunSummary }>> {
    let names: string[]
    try {
      names = await readdir(this.root)
    } catch {
      return []
    }
    const out: Array<{ record: RunRecordFile, summary?: RunSummary }> = []
    for (const name of names.filter((n) => RUN_ID_PATTERN.test(n))) {
      try {
        const record = JSON.parse(await readFile(join(this.root, name, 'run.json'), 'utf8')) as RunRecordFile
        if (record.version !== 1 || record.id !== name) continue
        const summary = await readFile(join(this.root, name, 'summary.json'), 'utf8').then((t) => JSON.parse(t) as RunSummary, () => undefined)
        out.push({ record, summary })
      } catch {
        continue
      }
    }
    return out
  }
}
