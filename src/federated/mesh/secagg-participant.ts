/**
 * The participant side of secure aggregation over `/edge-mesh/fedavg/1.0.0`
 * (types 20-27): one session per (coordinator, run, round, attempt, client),
 * holding the client's `SecAggClient` state machine and its training.
 *
 * - SECAGG_SETUP is an ANNOUNCE that also opens the session: the participant
 *   checks it as an ANNOUNCE (bounds, busy client, base model), starts the
 *   training job with its update going to the session instead of a PUSH, and
 *   answers with its public keys;
 * - SECAGG_NEIGHBOURS answers with the encrypted shares;
 * - SECAGG_INBOX waits for the training, then answers with the masked delta
 *   (`n·Δ` and `n` in fixed point, masked) as an int32 weight record;
 * - SECAGG_UNMASK answers with the shares and closes the session.
 *
 * The update never leaves the node unmasked. Sessions are bounded
 * (`MAX_SECAGG_SESSIONS`) and expire after the round's deadline plus two
 * stage timeouts, whatever the coordinator does.
 */
import { LimitExceededError, ProtocolError } from '../../errors.js'
import { randomBytes } from '@noble/hashes/utils.js'
import { MAX_SECAGG_SESSIONS } from '../privacy/secagg/constants.js'
import { SecAggClient } from '../privacy/secagg/client.js'
import { bigintToBytes, SHARE_BYTES } from '../privacy/secagg/shamir.js'
import { flatten, maskedRecord } from '../privacy/secagg/vector.js'
import { int8RingBits } from '../privacy/secagg/ring.js'
import { deltaOf } from '../privacy/delta.js'
import { privatizeInPlace } from '../privacy/secagg/distributed-dp.js'
import type { ClientNoise } from '../privacy/secagg/distributed-dp.js'
import { encodedWeightRecordSize } from '../weights/codec.js'
import type { SecAggConfig } from '../privacy/secagg/messages.js'
import type { Participant } from './participant.js'
import type { FedMessage } from './protocol/messages.js'
import type { SecAggInboxMessage, SecAggNeighboursMessage, SecAggRequest, SecAggRoundRef, SecAggSetupMessage, SecAggUnmaskMessage } from './protocol/secagg-messages.js'
import type { TrainResult, WeightRecord } from '../../model/types.js'
import type { AbortOptions, Logger } from '@libp2p/interface'

interface Trained { delta: Float32Array, weight: number, result: TrainResult }

interface Session {
  coordinator: string
  runId: string
  client: SecAggClient
  trained: Promise<Trained>
  timer: ReturnType<typeof setTimeout>
}

export interface SecAggParticipantInit {
  participant(): Pick<Participant, 'accept'>
  log: Logger
  /** Called with the reason of every refused request (for /metrics). */
  onRefused?(reason: string): void
  /** Sessions open at once. @default MAX_SECAGG_SESSIONS */
  maxSessions?: number
}

/** A reply and the weight record that follows it. */
export interface SecAggReply { message: FedMessage, record?: WeightRecord }

function keyOf (coordinator: string, r: SecAggRoundRef): string {
  return `${coordinator}|${r.runId}|${r.round}|${r.attempt}|${r.clientIndex}`
}

/** The round settings of a SETUP, checked for consistency (the codec checked each field's range). */
export function setupConfig (m: SecAggSetupMessage): SecAggConfig {
  if (m.id > m.clients) throw new ProtocolError(`secagg client id ${m.id} is outside 1..${m.clients}`)
  if (m.degree > m.clients - 1) throw new ProtocolError(`secagg degree ${m.degree} exceeds ${m.clients - 1} other clients`)
  if (m.threshold > m.degree) throw new ProtocolError(`secagg threshold ${m.threshold} exceeds the degree ${m.degree}`)
  // a ring too small for the round's sum would wrap silently: only the ring int8RingBits gives is accepted
  if (m.ringBits !== undefined && m.ringBits !== int8RingBits(m.clients)) throw new ProtocolError(`secagg ring of ${m.ringBits} bits for ${m.clients} clients; int8 needs ${int8RingBits(m.clients)}`)
  const ids = Array.from({ length: m.clients }, (_, i) => i + 1)
  const ring = m.ringBits === undefined ? {} : { ringBits: m.ringBits }
  return { ids, degree: m.degree, threshold: m.threshold, graphSeed: m.graphSeed, vectorLength: m.vectorLength, bound: m.bound, maxTotalWeight: m.maxTotalWeight, ...ring }
}

/** The distributed-DP noise a SETUP asks for: both fields or neither. */
function noiseOf (m: SecAggSetupMessage): ClientNoise | undefined {
  if (m.dpClipNorm === undefined && m.dpNoiseStd === undefined) return undefined
  if (m.dpClipNorm === undefined || m.dpNoiseStd === undefined) throw new ProtocolError('secagg setup: dpClipNorm and dpNoiseStd come together')
  return { clipNorm: m.dpClipNorm, noiseStd: m.dpNoiseStd }
}

export class SecAggParticipant {
  private readonly sessions = new Map<string, Session>()
  private readonly stages = new Map<string, number>()

  constructor (private readonly init: SecAggParticipantInit) {}

  /** Answer one secagg request from `coordinator` (already trusted by the dispatch). */
  async handle (m: SecAggRequest, coordinator: string, options: AbortOptions): Promise<SecAggReply> {
    const stage = m.type.slice('secagg-'.length)
    this.stages.set(stage, (this.stages.get(stage) ?? 0) + 1)
    return this.answer(m, coordinator, options)
  }

  /** Requests received from trusted coordinators, by stage. */
  answered (): Record<string, number> {
    return Object.fromEntries(this.stages)
  }

  private async answer (m: SecAggRequest, coordinator: string, options: AbortOptions): Promise<SecAggReply> {
    switch (m.type) {
      case 'secagg-setup': return this.setup(m, coordinator, options)
      case 'secagg-neighbours': return this.neighbours(m, coordinator)
      case 'secagg-inbox': return this.inbox(m, coordinator, options)
      case 'secagg-unmask': return this.unmask(m, coordinator)
    }
  }

  private async setup (m: SecAggSetupMessage, coordinator: string, options: AbortOptions): Promise<SecAggReply> {
    const key = keyOf(coordinator, m)
    if (this.sessions.has(key)) throw new ProtocolError(`secagg round ${m.round} (attempt ${m.attempt}) of ${m.runId} is already set up for client #${m.clientIndex}`)
    if (this.sessions.size >= (this.init.maxSessions ?? MAX_SECAGG_SESSIONS)) {
      this.init.onRefused?.('secagg_sessions')
      throw new LimitExceededError(`this node keeps at most ${this.init.maxSessions ?? MAX_SECAGG_SESSIONS} secure aggregation sessions`)
    }
    const config = setupConfig(m)
    const noise = noiseOf(m)
    const client = new SecAggClient(m.id, config, randomBytes)
    let sink!: { deliver: (result: TrainResult, global: WeightRecord, declared: number) => void, fail: (err: Error) => void }
    const trained = new Promise<Trained>((resolve, reject) => {
      sink = {
        deliver: (result, global, declared) => {
          try {
            const delta = flatten(deltaOf(global, result.weights))
            if (noise !== undefined) privatizeInPlace(delta, noise)
            // distributed DP and int8 in the ring mask weight 1
            resolve({ delta, weight: noise === undefined && config.ringBits === undefined ? Math.min(result.numExamples, declared) : 1, result })
          } catch (err) {
            reject(err)
          }
        },
        fail: reject
      }
    })
    trained.catch(() => {})
    const timer = setTimeout(() => { this.close(key) }, m.deadlineMs + 2 * m.stageTimeoutMs)
    timer.unref?.()
    this.sessions.set(key, { coordinator, runId: m.runId, client, trained, timer })
    try {
      const accepted = await this.init.participant().accept({
        type: 'announce', runId: m.runId, round: m.round, attempt: m.attempt, version: m.version, globalModelId: '',
        baseModelId: m.baseModelId, clientIndex: m.clientIndex, epochs: m.epochs, batchSize: m.batchSize,
        learningRate: m.learningRate, proximalMu: m.proximalMu, seed: m.seed, deadlineMs: m.deadlineMs
      }, coordinator, options, sink)
      const keys = client.advertise()
      return { message: { type: 'secagg-keys', numExamples: accepted.numExamples, cPk: keys.cPk, sPk: keys.sPk } }
    } catch (err) {
      this.close(key)
      throw err
    }
  }

  private session (coordinator: string, r: SecAggRoundRef): [string, Session] {
    const key = keyOf(coordinator, r)
    const s = this.sessions.get(key)
    if (s === undefined) throw new ProtocolError(`no secure aggregation session for client #${r.clientIndex} in round ${r.round} (attempt ${r.attempt}) of ${r.runId}`)
    return [key, s]
  }

  /** Run `step` on the session; a failed step closes it (the state machine cannot go back). */
  private step<T> (key: string, step: () => T): T {
    try {
      return step()
    } catch (err) {
      this.close(key)
      throw err
    }
  }

  private neighbours (m: SecAggNeighboursMessage, coordinator: string): SecAggReply {
    const [key, s] = this.session(coordinator, m)
    const shares = this.step(key, () => s.client.shareKeys({ type: 'keys', to: s.client.id, keys: m.keys }))
    return { message: { type: 'secagg-shares', shares: shares.shares } }
  }

  private async inbox (m: SecAggInboxMessage, coordinator: string, options: AbortOptions): Promise<SecAggReply> {
    const [key, s] = this.session(coordinator, m)
    let trained: Trained
    try {
      trained = await raceSignal(s.trained, options.signal)
    } catch (err) {
      this.close(key)
      throw err
    }
    const masked = this.step(key, () => s.client.maskInput({ type: 'inbox', to: s.client.id, shares: m.shares }, trained.delta, trained.weight))
    const r = trained.result
    const record = maskedRecord(masked.vector, s.client.ringBits)
    return { message: { type: 'secagg-masked', loss: r.loss, accuracy: r.accuracy, trainMs: r.trainMs, weightBytes: encodedWeightRecordSize(record) }, record }
  }

  private unmask (m: SecAggUnmaskMessage, coordinator: string): SecAggReply {
    const [key, s] = this.session(coordinator, m)
    const reveal = this.step(key, () => s.client.unmask({ type: 'unmask-request', survivors: m.survivors, dropped: m.dropped }))
    this.close(key)
    const bytes = (shares: Array<{ of: number, y: bigint }>): Array<{ of: number, y: Uint8Array }> => shares.map((x) => ({ of: x.of, y: bigintToBytes(x.y, SHARE_BYTES) }))
    return { message: { type: 'secagg-reveal', selfShares: bytes(reveal.selfShares), keyShares: bytes(reveal.keyShares) } }
  }

  private close (key: string): void {
    const s = this.sessions.get(key)
    if (s === undefined) return
    clearTimeout(s.timer)
    this.sessions.delete(key)
  }

  /** Drop the sessions of a coordinator (it disconnected), or of one of its runs (it cancelled). */
  forget (coordinator: string, runId?: string): void {
    for (const [key, s] of [...this.sessions]) if (s.coordinator === coordinator && (runId === undefined || s.runId === runId)) this.close(key)
  }

  /** Sessions open now. */
  open (): number {
    return this.sessions.size
  }

  stop (): void {
    for (const key of [...this.sessions.keys()]) this.close(key)
  }
}

async function raceSignal<T> (p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return p
  signal.throwIfAborted()
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
  })
}
