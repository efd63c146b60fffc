/**
 * An in-memory Grid of K virtual clients, each with its own Dataset, all
 * training through one shared ModelRuntime with a small concurrency (one at a
 * time by default), so 100 clients never hold 100 models at once. Tests can
 * inject failures, hangs and invalid updates; byzantine clients run an attack
 * around honest training.
 */
import { logger } from '@libp2p/logger'
import { AbortError, EdgeMeshError } from '../../errors.js'
import { flipLabels, attackUpdate } from './attacks.js'
import { encodedWeightRecordSize } from '../weights/codec.js'
import { DEFAULT_MEMORY_GRID_CONCURRENCY, DEFAULT_SEED } from '../constants.js'
import { createLimiter } from '../limiter.js'
import { createRng, deriveSeed } from '../rng.js'
import { DatasetKeys, clientTrainingSeed } from '../data-key.js'
import type { AttackName, AttackOptions } from './attacks.js'
import type { ClientInfo, ClientUpdate, Grid, TrainRequest } from '../grid.js'
import type { AbortOptions, Logger } from '@libp2p/interface'
import type { Dataset, ModelRuntime } from '../../model/types.js'

/** One virtual client. */
export interface VirtualClient {
  id: string
  data: Dataset
  /** Byzantine behaviour; honest when undefined. */
  attack?: AttackName
}

/**
 * A fault to inject into one training request:
 * `fail` rejects at once, `hang` never answers (until the signal aborts),
 * `invalid` trains and then returns an update holding a NaN.
 */
export type InjectedFault = 'fail' | 'hang' | 'invalid'

export interface MemoryGridInit {
  /** The shared runtime; only `train` is used. */
  runtime: Pick<ModelRuntime, 'train'>
  clients: VirtualClient[]
  /** Trainings run at once. @default 1 */
  concurrency?: number
  /** Decide a fault per request; no faults when undefined. */
  fault?(clientId: string, round: number): InjectedFault | undefined
  attackOptions?: AttackOptions
  /** Seed of the attacks' noise. @default 0 */
  seed?: number
  /** The caller's logger. @default `edge-mesh:federated:memory-grid` */
  log?: Logger
}

/** The failure an injected `fail` fault produces. */
export class InjectedFailureError extends EdgeMeshError {
  static override readonly name = 'InjectedFailureError'
  override name = 'InjectedFailureError'
}

function hashId (id: string): number {
  let h = 2166136261
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619)
  return h >>> 0
}

async function hang (options: AbortOptions): Promise<never> {
  return new Promise((_resolve, reject) => {
    const fail = (): void => { reject(options.signal?.reason ?? new AbortError('training aborted')) }
    if (options.signal?.aborted === true) fail()
    options.signal?.addEventListener('abort', fail, { once: true })
  })
}

/** Create an in-memory grid over virtual clients. */
export function createMemoryGrid (init: MemoryGridInit): Grid {
  const log = init.log ?? logger('edge-mesh:federated:memory-grid')
  const byId = new Map(init.clients.map((c) => [c.id, c]))
  const flipped = new Map<string, Dataset>()
  const training = new Set<string>()
  const limiter = createLimiter(init.concurrency ?? DEFAULT_MEMORY_GRID_CONCURRENCY)
  const seed = init.seed ?? DEFAULT_SEED
  const keys = new DatasetKeys()

  const dataOf = (client: VirtualClient): Dataset => {
    if (client.attack !== 'labelflip') return client.data
    let data = flipped.get(client.id)
    if (data === undefined) {
      data = flipLabels(client.data)
      flipped.set(client.id, data)
    }
    return data
  }

  const trainOne = async (client: VirtualClient, request: TrainRequest, options: AbortOptions): Promise<ClientUpdate> => {
    options.signal?.throwIfAborted()
    const trainSeed = clientTrainingSeed(request.config.seed, keys.of(client.data))
    const result = await init.runtime.train(request.baseModelId, request.weights, dataOf(client), { ...request.config, seed: trainSeed, signal: options.signal })
    let weights = result.weights
    if (client.attack !== undefined) {
      const rng = createRng(deriveSeed(seed, request.round, hashId(client.id)))
      weights = attackUpdate(client.attack, request.weights, weights, rng, init.attackOptions)
    }
    return {
      clientId: client.id,
      weights,
      numExamples: result.numExamples,
      metrics: { loss: result.loss, accuracy: result.accuracy, trainMs: result.trainMs },
      bytes: { down: encodedWeightRecordSize(request.weights), up: encodedWeightRecordSize(weights) }
    }
  }

  return {
    clients (): ClientInfo[] {
      return init.clients.map((c) => ({ id: c.id, numExamples: c.data.count, load: training.has(c.id) ? 'training' : 'idle', dataKey: keys.of(c.data) }))
    },
    async train (clientId, request, options) {
      const client = byId.get(clientId)
      if (client === undefined) throw new EdgeMeshError(`unknown virtual client ${clientId}`)
      const fault = init.fault?.(clientId, request.round)
      if (fault === 'fail') throw new InjectedFailureError(`injected failure of ${clientId} in round ${request.round}`)
      if (fault === 'hang') return hang(options)
      const update = await limiter.run(async () => {
        training.add(clientId)
        try {
          return await trainOne(client, request, options)
        } finally {
          training.delete(clientId)
        }
      }, options)
      if (fault === 'invalid') update.weights[0].data[0] = Number.NaN
      log.trace('client %s trained round %d on %d examples', clientId, request.round, update.numExamples)
      return update
    }
  }
}
