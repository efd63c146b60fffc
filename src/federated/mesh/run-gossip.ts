/**
 * Run status on the gossipsub topic `/edge-mesh/fedruns/1`: a coordinator
 * publishes `{ "v": 1, "seq": n, "run": RunSummary }` as compact UTF-8 JSON
 * after every round (and every few seconds while a run is running, for late
 * joiners). Messages are at most 64 KiB (the oldest rounds of `history` are
 * dropped to fit), validated field by field, accepted only from the run's
 * coordinator (the message's signer must be the `coordinator` it names, and
 * the run id must be bound to that peer: `run-id.ts`), and a higher `seq`
 * replaces a lower one.
 */
import { InvalidMessageError, MessageTooLargeError } from '../../errors.js'
import { FEDRUNS_TOPIC, MAX_KNOWN_RUNS, MAX_RUN_GOSSIP_BYTES, RUN_ID_PATTERN } from './protocol/constants.js'
import { runIdBindsTo } from './run-id.js'
import { parsePrivacySummary } from '../privacy/dp-options.js'
import type { RoundSummary, RunState, RunSummary } from './service-types.js'

export { FEDRUNS_TOPIC }

const STATES: readonly RunState[] = ['running', 'completed', 'failed', 'aborted', 'cancelled']
const MAX_HISTORY = 1000

export interface RunAnnouncement {
  seq: number
  run: RunSummary
}

/** Encode an announcement, dropping the oldest rounds until it fits. */
export function encodeRunAnnouncement (a: RunAnnouncement, maxBytes = MAX_RUN_GOSSIP_BYTES): Uint8Array {
  let history = a.run.history.slice(-MAX_HISTORY)
  for (;;) {
    const bytes = new TextEncoder().encode(JSON.stringify({ v: 1, seq: a.seq, run: { ...a.run, history } }))
    if (bytes.length <= maxBytes) return bytes
    if (history.length === 0) throw new MessageTooLargeError(`run summary of ${bytes.length} bytes exceeds ${maxBytes}`)
    history = history.slice(Math.ceil(history.length / 4))
  }
}

function isNum (v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v)
}

function isStr (v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length <= max
}

function checkRound (r: any): RoundSummary {
  const ok = r !== null && typeof r === 'object' &&
    ['round', 'participants', 'failures', 'wallMs', 'bytesUp', 'bytesDown'].every((k) => isNum(r[k]) && r[k] >= 0) &&
    (isNum(r.accuracy) || r.accuracy === null) && (isNum(r.loss) || r.loss === null) &&
    isStr(r.globalModelId, 128) && Array.isArray(r.failureReasons) && r.failureReasons.length <= 1024 &&
    r.failureReasons.every((f: unknown) => isStr(f, 4096)) &&
    (r.participantIds === undefined || (Array.isArray(r.participantIds) && r.participantIds.length <= 1024 && r.participantIds.every((id: unknown) => isStr(id, 160))))
  if (!ok) throw new InvalidMessageError('malformed round in run summary')
  return {
    round: r.round,
    accuracy: r.accuracy ?? Number.NaN,
    loss: r.loss ?? Number.NaN,
    participants: r.participants,
    participantIds: [...(r.participantIds ?? [])],
    failures: r.failures,
    failureReasons: [...r.failureReasons],
    wallMs: r.wallMs,
    bytesUp: r.bytesUp,
    bytesDown: r.bytesDown,
    globalModelId: r.globalModelId,
    ...(isNum(r.epsilon) && isNum(r.delta) ? { epsilon: r.epsilon, delta: r.delta } : {})
  }
}

function privacyField (v: unknown): Pick<RunSummary, 'privacy'> {
  const privacy = parsePrivacySummary(v)
  return privacy === undefined ? {} : { privacy }
}

/** Decode and validate an announcement; throws InvalidMessageError or MessageTooLargeError. */
export function decodeRunAnnouncement (bytes: Uint8Array): RunAnnouncement {
  if (bytes.length > MAX_RUN_GOSSIP_BYTES) throw new MessageTooLargeError(`run summary of ${bytes.length} bytes exceeds ${MAX_RUN_GOSSIP_BYTES}`)
  let m: any
  try {
    m = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw new InvalidMessageError('run summary is not UTF-8 JSON')
  }
  const r = m?.run
  const ok = m?.v === 1 && isNum(m.seq) && r !== null && typeof r === 'object' &&
    isStr(r.id, 64) && RUN_ID_PATTERN.test(r.id) && STATES.includes(r.state) && isStr(r.strategy, 32) &&
    isNum(r.rounds) && isNum(r.completedRounds) && isStr(r.coordinator, 128) && isStr(r.globalModelId, 128) &&
    isNum(r.startedAt) && (r.finishedAt === undefined || isNum(r.finishedAt)) && Array.isArray(r.history) && r.history.length <= MAX_HISTORY &&
    (r.error === undefined || (isStr(r.error?.name, 64) && isStr(r.error?.message, 4096)))
  if (ok !== true) throw new InvalidMessageError('malformed run summary')
  const run: RunSummary = {
    id: r.id,
    state: r.state,
    strategy: r.strategy,
    rounds: r.rounds,
    completedRounds: r.completedRounds,
    coordinator: r.coordinator,
    globalModelId: r.globalModelId,
    startedAt: r.startedAt,
    ...(r.finishedAt === undefined ? {} : { finishedAt: r.finishedAt }),
    ...(r.error === undefined ? {} : { error: { name: r.error.name, message: r.error.message } }),
    ...(r.stopReason === 'target-epsilon' ? { stopReason: r.stopReason } : {}),
    ...(isStr(r.waiting, 512) ? { waiting: r.waiting } : {}),
    ...(isStr(r.sampling, 512) ? { sampling: r.sampling } : {}),
    ...(isNum(r.initial?.accuracy) && isNum(r.initial?.loss) ? { initial: { accuracy: r.initial.accuracy, loss: r.initial.loss } } : {}),
    ...privacyField(r.privacy),
    history: r.history.map(checkRound)
  }
  return { seq: m.seq, run }
}

/** True when `from` is the run's coordinator: named in the summary and bound by the run id. */
export function fromRunCoordinator (from: string, a: RunAnnouncement): boolean {
  return a.run.coordinator === from && runIdBindsTo(a.run.id, from)
}

/** Runs learned from gossip: latest announcement per run wins, bounded in number. */
export class KnownRuns {
  private readonly runs = new Map<string, RunAnnouncement>()

  /** Apply an announcement from `from`; false when it is stale or not from the coordinator its run id binds to. */
  apply (from: string, a: RunAnnouncement): boolean {
    if (!fromRunCoordinator(from, a)) return false
    const known = this.runs.get(a.run.id)
    if (known !== undefined && known.seq >= a.seq) return false
    this.runs.delete(a.run.id)
    this.runs.set(a.run.id, a)
    while (this.runs.size > MAX_KNOWN_RUNS) this.runs.delete(this.runs.keys().next().value as string)
    return true
  }

  get (id: string): RunSummary | undefined {
    return this.runs.get(id)?.run
  }

  list (): RunSummary[] {
    return [...this.runs.values()].map((a) => a.run)
  }
}
