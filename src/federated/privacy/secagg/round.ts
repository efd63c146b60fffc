/**
 * A whole secure aggregation round in memory: clients and server exchange
 * the protocol's messages through function calls, with optional dropouts at
 * each step. Used by tests, simulations and the benchmark; a network
 * transport would carry the same messages.
 */
import { InvalidConfigError } from '../../../errors.js'
import { DEFAULT_SECAGG_BOUND, DEFAULT_SECAGG_MAX_TOTAL_WEIGHT } from '../constants.js'
import { randomBytes } from '@noble/hashes/utils.js'
import { seededRandom } from './crypto.js'
import { defaultDegree, defaultThreshold } from './graph.js'
import { messageBytes } from './messages.js'
import { int8RingBits } from './ring.js'
import { SecAggClient } from './client.js'
import { SecAggServer } from './server.js'
import type { RandomSource } from './crypto.js'
import type { SecAggConfig } from './messages.js'
import type { SecAggResult } from './server.js'

export interface SecAggInput { id: number, x: ArrayLike<number>, weight: number }

export interface SecAggRoundOptions {
  /** Clients that stop after sending their shares (before their masked input). */
  dropAfterShares?: ReadonlySet<number>
  /** Clients that stop after sending their masked input (before unmasking). */
  dropAfterMasking?: ReadonlySet<number>
  /** Random source of client `id`; the platform CSPRNG by default. */
  random?(id: number): RandomSource
}

export interface SecAggRoundResult extends SecAggResult {
  /** Bytes clients sent to the server and the server sent to clients, over the round. */
  bytesUp: number
  bytesDown: number
  server: SecAggServer
}

export interface SecAggConfigInit {
  /** Neighbours per client. @default 2 * ceil(log2 n), at most n - 1 */
  degree?: number
  /** Shares needed to recover a secret. @default floor(degree / 2) + 1 */
  threshold?: number
  /** @default 0 */
  graphSeed?: number
  /** Values are clamped to [-bound, bound]. @default DEFAULT_SECAGG_BOUND */
  bound?: number
  /** Largest sum of weights. @default DEFAULT_SECAGG_MAX_TOTAL_WEIGHT */
  maxTotalWeight?: number
  /** Int8 in the mask ring (`ring.ts`): every client masks weight 1. @default false */
  int8?: boolean
}


/** The settings of a round of `ids.length` clients over vectors of `vectorLength`. */
export function secAggConfig (ids: number[], vectorLength: number, init: SecAggConfigInit = {}): SecAggConfig {
  if (ids.length < 2) throw new InvalidConfigError('secure aggregation needs at least 2 clients')
  const degree = Math.min(ids.length - 1, init.degree ?? defaultDegree(ids.length))
  const threshold = init.threshold ?? defaultThreshold(degree)
  if (threshold < 1 || threshold > degree) throw new InvalidConfigError(`threshold must be in [1, ${degree}], got ${threshold}`)
  const base = { ids, degree, threshold, graphSeed: init.graphSeed ?? 0, vectorLength, bound: init.bound ?? DEFAULT_SECAGG_BOUND, maxTotalWeight: init.maxTotalWeight ?? DEFAULT_SECAGG_MAX_TOTAL_WEIGHT }
  return init.int8 === true ? { ...base, maxTotalWeight: ids.length, ringBits: int8RingBits(ids.length) } : base
}

/** A deterministic random source per client, for tests and simulations. */
export function seededClientRandom (seed: number): (id: number) => RandomSource {
  return (id) => seededRandom(seed * 65_537 + id)
}

/** Run one round of secure aggregation over `inputs`. */
export function runSecAggRound (config: SecAggConfig, inputs: readonly SecAggInput[], o: SecAggRoundOptions = {}): SecAggRoundResult {
  const server = new SecAggServer(config)
  const clients = new Map(inputs.map((i) => [i.id, new SecAggClient(i.id, config, o.random?.(i.id) ?? randomBytes)]))
  let bytesUp = 0
  let bytesDown = 0
  const up = <M extends Parameters<typeof messageBytes>[0]>(m: M): M => { bytesUp += messageBytes(m, config.ringBits); return m }
  const down = <M extends Parameters<typeof messageBytes>[0]>(m: M): M => { bytesDown += messageBytes(m, config.ringBits); return m }
  for (const c of clients.values()) server.receive(up(c.advertise()))
  for (const m of server.keyMessages()) server.receive(up((clients.get(m.to) as SecAggClient).shareKeys(down(m))))
  for (const m of server.inboxMessages()) {
    if (o.dropAfterShares?.has(m.to) === true) continue
    const input = inputs.find((i) => i.id === m.to) as SecAggInput
    server.receive(up((clients.get(m.to) as SecAggClient).maskInput(down(m), input.x, input.weight)))
  }
  const request = server.unmaskRequest()
  for (const id of request.survivors) {
    if (o.dropAfterMasking?.has(id) === true) continue
    server.receive(up((clients.get(id) as SecAggClient).unmask(down(request))))
  }
  return { ...server.finish(), bytesUp, bytesDown, server }
}
