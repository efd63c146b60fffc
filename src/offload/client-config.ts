/**
 * The offload client's options (see `client.ts`): `ClientConfig` with its
 * defaults, `ClientInit` (the collaborators the client is given) and the
 * counters it keeps. Kept apart from the attempt loop so the loop file holds
 * only the behaviour of a request.
 */
import { DEFAULT_BACKOFF_CONFIG } from './backoff.js'
import type { BackoffConfig } from './backoff.js'
import { DEFAULT_HEDGE_BUDGET_CONFIG } from './hedge.js'
import type { HedgeBudgetConfig } from './hedge.js'
import type { LatencyWindowInit } from './latency.js'
import type { SchedulingPolicy } from './policy.js'
import { DEFAULT_SCHEDULER_CONFIG } from './scheduler.js'
import type { Candidate, SchedulerConfig } from './scheduler.js'
import {
  DEFAULT_DEADLINE_MS, DEFAULT_EWMA_TAU_MS, DEFAULT_HEDGE_MIN_SAMPLES, DEFAULT_HEDGING, DEFAULT_MAX_ATTEMPTS, DEFAULT_PARK_LOAD_PER_SLOT,
  DEFAULT_SCHEDULING_POLICY
} from './scheduler-constants.js'
import { DEFAULT_MAX_PEER_INFLIGHT_BYTES } from './constants.js'
import type { LocalInvoker, RemoteInvoker } from './types.js'
import type { AbortOptions, Logger } from '@libp2p/interface'

export interface ClientConfig {
  /** @default 5000 */
  defaultDeadlineMs: number
  /** Most attempts per request, hedges included. @default 6 */
  maxAttempts: number
  /** @default true */
  hedging: boolean
  /** Samples needed before the p95 is used as a hedge delay. @default 20 */
  hedgeMinSamples: number
  hedgeBudget: HedgeBudgetConfig
  /** Peak-EWMA time constant, ms. @default 10000 */
  ewmaTauMs: number
  backoff: BackoffConfig
  /** Who chooses each attempt's candidate; `random` and `round-robin` are benchmark baselines. @default 'p2c' */
  policy: SchedulingPolicy
  scheduler: SchedulerConfig
  latencyWindow: LatencyWindowInit
  /** Late binding: park `auto` requests while the chosen node has this many requests per slot; 0 = off. @default 2 */
  parkLoadPerSlot: number
  /**
   * A serving peer's budget of request bytes in flight from this node (the
   * protocol's default, 4 MiB): late binding never holds more requests at a
   * peer than fit in it, since the peer refuses the rest PeerBusy. @default 4194304
   */
  peerInflightBytes: number
}

export interface ClientInit {
  selfId: string
  local: LocalInvoker
  remote: RemoteInvoker
  /** The candidates for a model as of now (see `buildCandidates`). */
  candidates(modelId: string): Candidate[]
  /** Fetch a model from the peers that announce it so this node can run it. */
  fetchLocal?(modelId: string, options: AbortOptions): Promise<void>
  /** Late-binding threshold for a model (requests per slot), e.g. higher for models whose requests batch. @default config.parkLoadPerSlot */
  parkLoadPerSlot?(modelId: string): number
  /** Monotonic clock, ms. @default performance.now */
  now?(): number
  /** @default Math.random */
  random?(): number
  config?: Partial<ClientConfig>
  log?: Logger
}

/** What the client counts; the service adds the engine's numbers. */
export interface ClientCounters {
  servedLocally: number
  servedRemotely: number
  failed: number
  hedges: number
  requests: number
  byPeer: Record<string, number>
}

/** The client's configuration: `config` over the defaults. */
export function clientConfig (config?: Partial<ClientConfig>): ClientConfig {
  return {
    defaultDeadlineMs: DEFAULT_DEADLINE_MS,
    maxAttempts: DEFAULT_MAX_ATTEMPTS,
    hedging: DEFAULT_HEDGING,
    hedgeMinSamples: DEFAULT_HEDGE_MIN_SAMPLES,
    hedgeBudget: DEFAULT_HEDGE_BUDGET_CONFIG,
    ewmaTauMs: DEFAULT_EWMA_TAU_MS,
    backoff: DEFAULT_BACKOFF_CONFIG,
    policy: DEFAULT_SCHEDULING_POLICY,
    scheduler: DEFAULT_SCHEDULER_CONFIG,
    latencyWindow: {},
    parkLoadPerSlot: DEFAULT_PARK_LOAD_PER_SLOT,
    peerInflightBytes: DEFAULT_MAX_PEER_INFLIGHT_BYTES,
    ...config
  }
}
