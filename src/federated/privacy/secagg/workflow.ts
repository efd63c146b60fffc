/**
 * A secure attempt of a round: the run loop's `collect` step when a run asks
 * for secure aggregation. Instead of collecting each client's update, the
 * coordinator drives the four stages of SecAgg(+) through a transport (the
 * mesh's is `src/federated/mesh/secagg-transport.ts`) and holds only masked
 * vectors and their unmasked weighted mean:
 *
 * 0. setup: each sampled client is told to train and answers with its keys (U1);
 * 1. neighbours: each client in U1 gets its neighbours' keys, answers with encrypted shares (U2);
 * 2. inbox: each client in U2 gets its shares, trains, answers with its masked `n·Δ` and `n` (U3);
 * 3. unmask: each survivor answers with the shares that remove the masks.
 *
 * Stages 0, 1 and 3 have a timeout each, stage 2 the attempt's deadline; a
 * client that fails or misses one is dropped. Fewer survivors than the
 * threshold fail the round with SecAggThresholdError. The outcome holds one
 * update, the securely aggregated model weighted by the total example count
 * (Flower's SecAgg+ workflow hands its strategy one aggregated result too),
 * so FedAvg of it is itself.
 */
import { InvalidUpdateError, SecAggThresholdError } from '../../../errors.js'
import { roundReducer } from '../../round.js'
import { deriveSeed } from '../../rng.js'
import { applyDelta } from '../delta.js'
import { DEFAULT_SECAGG_STAGE_TIMEOUT_MS } from './constants.js'
import { secAggConfig } from './round.js'
import { SecAggServer } from './server.js'
import { neighbourhoods } from './graph.js'
import { recordLength, unflatten } from './vector.js'
import { clientNoise, noisyBound } from './distributed-dp.js'
import type { ClientNoise } from './distributed-dp.js'
import type { ResolvedDpOptions } from '../dp-options.js'
import type { SecAggConfigInit } from './round.js'
import type { SecAggConfig, SharesMessage, UnmaskMessage } from './messages.js'
import type { SecAggResult } from './server.js'
import type { AttemptInput, AttemptOutcome } from '../../collect.js'
import type { ClientMetrics, FederatedTrainConfig } from '../../grid.js'
import type { ClientFailure } from '../../strategy.js'
import type { WeightRecord } from '../../../model/types.js'
import type { AbortOptions } from '@libp2p/interface'

/** What one client is asked in stage 0. */
export interface SecAggSetup {
  round: number
  attempt: number
  modelVersion: number
  baseModelId: string
  /** The global weights of `modelVersion` the client trains from (a mesh client PULLs them). */
  weights: WeightRecord
  train: FederatedTrainConfig
  /** Time the client has until its masked input must have arrived, ms. */
  deadlineMs: number
  /** The client's id in the round (1..n). */
  id: number
  config: SecAggConfig
  stageTimeoutMs: number
  /** Distributed DP: clip, add this noise and mask with weight 1 (`distributed-dp.ts`). */
  noise?: ClientNoise
}

/** Which round a stage 1-3 request is about. */
export interface SecAggRef { round: number, attempt: number }

/** How the coordinator reaches clients for the four stages. */
export interface SecAggTransport {
  setup(clientId: string, m: SecAggSetup, options: AbortOptions): Promise<{ numExamples: number, cPk: Uint8Array, sPk: Uint8Array }>
  neighbours(clientId: string, ref: SecAggRef, keys: Array<{ id: number, cPk: Uint8Array, sPk: Uint8Array }>, options: AbortOptions): Promise<SharesMessage['shares']>
  /** `ringBits`: bits per value of the masked vector (32, or fewer with int8 in the ring). */
  inbox(clientId: string, ref: SecAggRef, shares: Array<{ from: number, ciphertext: Uint8Array }>, vectorLength: number, options: AbortOptions, ringBits: number): Promise<{ vector: Uint32Array, metrics: ClientMetrics }>
  unmask(clientId: string, ref: SecAggRef, survivors: number[], dropped: number[], options: AbortOptions): Promise<Omit<UnmaskMessage, 'type' | 'from'>>
  /** Bytes moved so far in both directions (including the global weights pulled). */
  bytes(): { up: number, down: number }
}

/** The `secureAggregation` option of a run. */
export interface SecureRunOptions extends Pick<SecAggConfigInit, 'threshold' | 'bound' | 'maxTotalWeight'> {
  /** Neighbours per client (SecAgg+ degree). @default 2 * ceil(log2 n), at most n - 1 */
  neighbours?: number
  /** Timeout of the setup, key sharing and unmasking stages, ms. @default DEFAULT_SECAGG_STAGE_TIMEOUT_MS */
  stageTimeoutMs?: number
  /** Central DP-FedAvg by distributed noise (from the run's `dp`; not part of the `secureAggregation` field). */
  dp?: Pick<ResolvedDpOptions, 'clipNorm' | 'noiseMultiplier'>
  /** Int8 in the mask ring (from the run's `compression: int8`; `ring.ts`): equal weights, b bits per value. */
  int8?: boolean
}

function describe (err: any): string {
  return `${String(err?.name ?? 'Error')}: ${String(err?.message ?? err)}`
}

/** Call every client of `ids` at once under `timeoutMs`; the answers of those that made it, the rest recorded as failures. */
async function stage<T> (ids: readonly number[], timeoutMs: number, signal: AbortSignal | undefined, failed: Map<number, string>, call: (id: number, options: AbortOptions) => Promise<T>): Promise<Map<number, T>> {
  const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs)))
  const both = signal === undefined ? timeout : AbortSignal.any([signal, timeout])
  const settled = await Promise.allSettled(ids.map(async (id) => call(id, { signal: both })))
  signal?.throwIfAborted()
  const out = new Map<number, T>()
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') out.set(ids[i], s.value)
    else failed.set(ids[i], describe(s.reason))
  })
  return out
}

/** Run the four stages; the unmasked result and what each client declared. */
async function runStages (input: AttemptInput, ref: SecAggRef, transport: SecAggTransport, config: SecAggConfig, o: SecureRunOptions, failed: Map<number, string>): Promise<{ result: SecAggResult, declared: Map<number, number>, metrics: Map<number, ClientMetrics> }> {
  const { request, instructions, signal } = input
  const started = performance.now()
  const stageMs = o.stageTimeoutMs ?? DEFAULT_SECAGG_STAGE_TIMEOUT_MS
  const clientOf = (id: number): string => instructions[id - 1].clientId
  const server = new SecAggServer(config)
  const keys = await stage(config.ids, Math.max(stageMs, input.deadlineMs), signal, failed, async (id, options) => transport.setup(clientOf(id), {
    ...ref, modelVersion: request.modelVersion, baseModelId: request.baseModelId, weights: request.weights, train: instructions[id - 1].config,
    deadlineMs: Math.round(input.deadlineMs), id, config, stageTimeoutMs: stageMs,
    ...(o.dp === undefined ? {} : { noise: clientNoise(o.dp, config.ids.length) })
  }, options))
  for (const [id, k] of keys) server.receive({ type: 'advertise', from: id, cPk: k.cPk, sPk: k.sPk })
  const keyMessages = new Map(server.keyMessages().map((m) => [m.to, m.keys]))
  const shares = await stage([...keys.keys()], stageMs, signal, failed, async (id, options) => transport.neighbours(clientOf(id), ref, keyMessages.get(id) ?? [], options))
  // only shares for the sender's neighbours are routed: a client cannot make another fail with shares it should not get
  const graph = neighbourhoods(config.ids, config.degree, config.graphSeed)
  for (const [id, s] of shares) {
    const allowed = new Set(graph.get(id))
    server.receive({ type: 'shares', from: id, shares: s.filter((x) => allowed.delete(x.to)) })
  }
  const inboxes = new Map(server.inboxMessages().map((m) => [m.to, m.shares]))
  const left = input.deadlineMs - (performance.now() - started)
  const masked = await stage([...shares.keys()], left, signal, failed, async (id, options) => transport.inbox(clientOf(id), ref, inboxes.get(id) ?? [], config.vectorLength + 1, options, config.ringBits ?? 32))
  for (const [id, m] of masked) server.receive({ type: 'masked', from: id, vector: m.vector })
  const request3 = server.unmaskRequest()
  const reveals = await stage(request3.survivors, stageMs, signal, failed, async (id, options) => transport.unmask(clientOf(id), ref, request3.survivors, request3.dropped, options))
  for (const [id, r] of reveals) {
    const mine = (list: Array<{ of: number, y: bigint }>): Array<{ of: number, y: bigint }> => {
      const allowed = new Set(graph.get(id))
      return list.filter((x) => allowed.delete(x.of))
    }
    server.receive({ type: 'unmask', from: id, selfShares: mine(r.selfShares), keyShares: mine(r.keyShares) })
  }
  return {
    result: server.finish(),
    declared: new Map([...keys].map(([id, k]) => [id, k.numExamples])),
    metrics: new Map([...masked].map(([id, m]) => [id, m.metrics]))
  }
}

/** The settings of this attempt's secure round over the instructions' clients. */
function attemptConfig (input: AttemptInput, attempt: number, o: SecureRunOptions, seed: number): SecAggConfig {
  const ids = input.instructions.map((_, i) => i + 1)
  // under distributed DP every weight is 1 and values are clipped and noised
  const dp = o.dp === undefined ? {} : { bound: o.bound ?? noisyBound(clientNoise(o.dp, ids.length)), maxTotalWeight: ids.length }
  return secAggConfig(ids, recordLength(input.request.weights), {
    degree: o.neighbours, threshold: o.threshold, bound: o.bound, maxTotalWeight: o.maxTotalWeight, ...dp, int8: o.int8,
    graphSeed: deriveSeed(seed, 0x5EC, input.request.round, attempt)
  })
}

/**
 * The `collect` step of a secure run: the stages of one attempt, folded into
 * the round state machine as if the survivors had sent updates.
 */
export function secureCollect (transport: SecAggTransport, o: SecureRunOptions, seed: number): (input: AttemptInput) => Promise<AttemptOutcome> {
  return async (input) => {
    const { request, instructions } = input
    let state = roundReducer(input.state, { type: 'round-started', round: request.round, participants: instructions.map((i) => i.clientId) })
    if (state.lastRejection !== undefined) throw state.lastRejection
    const before = transport.bytes()
    const failed = new Map<number, string>()
    let stages: Awaited<ReturnType<typeof runStages>>
    try {
      const ref = { round: request.round, attempt: state.attempt }
      stages = await runStages(input, ref, transport, attemptConfig(input, state.attempt, o, seed), o, failed)
    } catch (err: any) {
      if (err?.name !== SecAggThresholdError.name) throw err
      throw new SecAggThresholdError(`secure round ${request.round}: ${err.message as string} (dropped: ${[...failed].map(([id, why]) => `${instructions[id - 1].clientId}: ${why}`).join('; ') || 'none'})`)
    }
    const { result, declared, metrics } = stages
    const survivors = result.survivors.map((id) => instructions[id - 1].clientId)
    // under DP and int8 in the ring every client masks weight 1
    const allowed = o.dp !== undefined || o.int8 === true ? result.survivors.length : result.survivors.reduce((n, id) => n + (declared.get(id) ?? 0), 0)
    if (result.totalWeight < 1 || result.totalWeight > allowed) throw new InvalidUpdateError(`secure round ${request.round}: total weight ${result.totalWeight} is not in 1..${allowed} (what the survivors declared)`)
    // DP-FedAvg's fixed denominator m: the sum over s survivors, divided by the m clients asked
    if (o.dp !== undefined) for (let i = 0; i < result.mean.length; i++) result.mean[i] *= result.totalWeight / instructions.length
    const lengths = request.weights.map((t) => t.data.length)
    const weights = applyDelta(request.weights, unflatten(result.mean, lengths))
    const m = [...metrics.values()]
    const update = {
      clientId: `secagg(${survivors.length})`,
      weights,
      numExamples: result.totalWeight,
      metrics: { loss: mean(m.map((x) => x.loss)), accuracy: mean(m.map((x) => x.accuracy)), trainMs: Math.max(0, ...m.map((x) => x.trainMs)) }
    }
    // a survivor that missed only the unmasking is in the sum: not a failure
    const inSum = new Set(result.survivors)
    for (const [id, why] of failed) {
      if (inSum.has(id)) input.log?.('secure round %d: %s did not unmask: %s', request.round, instructions[id - 1].clientId, why)
      else state = roundReducer(state, { type: 'client-failed', round: request.round, clientId: instructions[id - 1].clientId, reason: why })
    }
    for (const clientId of survivors) state = roundReducer(state, { type: 'update-accepted', round: request.round, clientId })
    const failures: ClientFailure[] = [...state.failures]
    if (state.phase === 'aggregating') input.fold?.add(update)
    const after = transport.bytes()
    return {
      state,
      updates: state.phase === 'aggregating' ? [{ ...update, weights: input.fold === undefined ? weights : [] }] : [],
      participantIds: survivors,
      failures,
      bytesUp: after.up - before.up,
      bytesDown: after.down - before.down
    }
  }
}

function mean (xs: number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length
}
