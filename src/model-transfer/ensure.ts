/**
 * Make a model available on this node before running it: when it is not
 * loaded, fetch it by content id from the peers that announce it in their load
 * reports (the requester of a served request announces the models it holds, so
 * it is one of them).
 *
 * Fetches are single-flight per model: concurrent requests for a model share
 * one transfer. A transfer is bounded by its own timeout, not by the signal of
 * the request that started it, so a request that gives up does not waste the
 * transfer for the requests after it. At most `maxConcurrent` different models
 * are fetched at once; one more is refused with PeerBusyError.
 */
import { AbortError, ModelNotFoundError, PeerBusyError } from '../errors.js'
import type { ModelRuntime } from '../model/types.js'
import type { AbortOptions } from '@libp2p/interface'

/** Fetch a model's artifacts from one of `peers` and load it into the runtime. */
export interface FetchModel {
  (modelId: string, peers: string[], options: AbortOptions): Promise<unknown>
}

export interface ModelEnsurerInit {
  models: Pick<ModelRuntime, 'has'>
  /** Peers to fetch `modelId` from: `from` (the caller's hint, such as the requester) and those that announce it now. */
  sources(modelId: string, from: string[]): string[]
  fetch: FetchModel
  /** Longest one transfer may take, ms. */
  timeoutMs: number
  /** Different models fetched at once. */
  maxConcurrent: number
  /** The signal that aborts every transfer (the service stopped); read at the start of each transfer. */
  stopSignal?(): AbortSignal
}

export interface EnsureOptions extends AbortOptions {
  /**
   * Peers to ask first (the requester of a served request, a run's
   * coordinator). A fetch already under way for the model is joined as it
   * is, whatever its peers.
   */
  from?: string[]
}

/** Resolves when `modelId` is loaded here; rejects with ModelNotFoundError, PeerBusyError or AbortError. */
export type EnsureModel = (modelId: string, options?: EnsureOptions) => Promise<void>

/** Wait for `promise`, or reject with AbortError as soon as `signal` aborts. */
async function unlessAborted (promise: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (signal == null) return promise
  if (signal.aborted) throw new AbortError('aborted while waiting for the model')
  let onAbort = (): void => {}
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(new AbortError('aborted while waiting for the model')) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

export function createModelEnsurer (init: ModelEnsurerInit): EnsureModel {
  const inFlight = new Map<string, Promise<void>>()

  const transfer = async (modelId: string, from: string[]): Promise<void> => {
    const peers = init.sources(modelId, from)
    if (peers.length === 0) throw new ModelNotFoundError(`no peer announces model ${modelId}`)
    const timeout = AbortSignal.timeout(init.timeoutMs)
    const stop = init.stopSignal?.()
    const signal = stop == null ? timeout : AbortSignal.any([stop, timeout])
    await init.fetch(modelId, peers, { signal })
    if (!init.models.has(modelId)) throw new ModelNotFoundError(`model ${modelId} was fetched but is not loaded`)
  }

  return async (modelId, options = {}) => {
    if (init.models.has(modelId)) return
    let pending = inFlight.get(modelId)
    if (pending == null) {
      if (inFlight.size >= init.maxConcurrent) throw new PeerBusyError(`already fetching ${inFlight.size} models`)
      pending = transfer(modelId, options.from ?? []).finally(() => { inFlight.delete(modelId) })
      pending.catch(() => {})
      inFlight.set(modelId, pending)
    }
    await unlessAborted(pending, options.signal)
  }
}
