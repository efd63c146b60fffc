/**
 * Model distribution over `/edge-mesh/model/1.0.0`: a node asks a peer for a
 * model by content id; the peer answers with a header (the two artifact sizes,
 * or an error such as ModelNotFound) followed by `model.json` and the weight
 * bytes as data frames of at most `chunkBytes`, written with backpressure.
 *
 * The fetcher never trusts the bytes: it loads them with
 * `runtime.loadFromArtifacts(artifacts, { expectedId })`, which throws
 * InvalidModelError when they do not hash to the id asked for. Fetched models
 * are kept in an optional on-disk LRU cache and loaded from it at start.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { logger } from '@libp2p/logger'
import { deadline } from '../wire/deadline.js'
import { AbortError, AllPeersFailedError, DeadlineExceededError, MessageTooLargeError, ModelNotFoundError, ProtocolError } from '../errors.js'
import { FrameReader, Uint8ArrayList, writeFrame, writeFrames } from '../wire/framing.js'
import {
  DEFAULT_MAX_MODEL_BYTES, DEFAULT_MODEL_CHUNK_BYTES, DEFAULT_MODEL_MAX_INBOUND_STREAMS, DEFAULT_MODEL_MAX_OUTBOUND_STREAMS,
  DEFAULT_MODEL_TRANSFER_TIMEOUT_MS, MAX_MODEL_FRAME_BYTES, MODEL_PROTOCOL
} from '../offload/constants.js'
import { errorFromCode } from '../wire/error-codes.js'
import { ModelCache } from './cache.js'
import { decodeModelHeader, decodeModelRequest, encodeErrorHeader, encodeFoundHeader, encodeModelRequest } from './wire.js'
import type { ModelArtifacts, ModelInfo, ModelRuntime } from '../model/types.js'
import type { AbortOptions, Startable, Stream } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'

const log = logger('edge-mesh:offload:model-transfer')

export interface ModelTransferInit {
  /** Directory of the on-disk cache; fetched models live in memory only when unset. */
  cacheDir?: string
  /** Byte bound of the cache. @default 1 GiB */
  maxCacheBytes?: number
  /** Largest model served or fetched (model.json + weights), bytes. @default 256 MiB */
  maxModelBytes?: number
  /** Payload bytes of one data frame sent. @default 256 KiB */
  chunkBytes?: number
  /** Longest one transfer stream may stay open (serving and fetching), ms. @default 120000 */
  modelTransferTimeoutMs?: number
  /** @default 4 */
  maxModelInboundStreams?: number
  /** @default 4 */
  maxModelOutboundStreams?: number
}

export interface ModelTransferComponents {
  registrar: Pick<Registrar, 'handle' | 'unhandle'>
  connectionManager: Pick<ConnectionManager, 'openStream'>
  models: Pick<ModelRuntime, 'has' | 'get' | 'exportArtifacts' | 'loadFromArtifacts'>
}

/** Fetches models by content id from peers. */
export interface ModelFetcher {
  /** Fetch `modelId` from one peer, verify it and load it. */
  fetchModel(peerId: string, modelId: string, options?: AbortOptions): Promise<ModelInfo>
  /** Try `peers` in turn (the requester first, then announcers); AllPeersFailedError when every one fails. */
  fetch(modelId: string, peers: string[], options?: AbortOptions): Promise<ModelInfo>
}

export interface ServeOptions {
  maxModelBytes?: number
  chunkBytes?: number
  signal?: AbortSignal
}

/** The data frames of artifacts: views of at most `chunkBytes`, model.json first. */
function * chunks (artifacts: ModelArtifacts, chunkBytes: number): Generator<Uint8Array> {
  for (const part of [artifacts.modelJson, artifacts.weights]) {
    for (let o = 0; o < part.length; o += chunkBytes) yield part.subarray(o, Math.min(part.length, o + chunkBytes))
  }
}

/** The server's side of one stream: read the request, answer header + data, close. Throws on stream failure. */
export async function serveModel (stream: Stream, models: ModelTransferComponents['models'], options: ServeOptions = {}): Promise<void> {
  const maxModelBytes = options.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES
  const signal = options.signal
  let artifacts: ModelArtifacts | undefined
  let header: Uint8Array
  try {
    const modelId = decodeModelRequest(await new FrameReader(stream, { maxFrameBytes: MAX_MODEL_FRAME_BYTES }).expect('the model request'))
    if (!models.has(modelId)) throw new ModelNotFoundError(`model ${modelId} is not loaded here`)
    artifacts = models.exportArtifacts(modelId)
    const size = artifacts.modelJson.length + artifacts.weights.length
    if (size > maxModelBytes) throw new MessageTooLargeError(`model of ${size} bytes exceeds ${maxModelBytes}`)
    header = encodeFoundHeader(artifacts.modelJson.length, artifacts.weights.length)
  } catch (err) {
    if (signal?.aborted === true) throw err
    artifacts = undefined
    header = encodeErrorHeader(err)
  }
  await writeFrame(stream, header, { signal })
  if (artifacts != null) await writeFrames(stream, chunks(artifacts, options.chunkBytes ?? DEFAULT_MODEL_CHUNK_BYTES), { signal })
  await stream.close({ signal })
}

/** Copy unless the bytes already own their whole buffer (the runtime may hand `.buffer` to TF.js). */
function exact (bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()
}

/** The client's side of one stream: send the request, read header and exactly the announced bytes. */
export async function requestModel (stream: Stream, modelId: string, options: { maxModelBytes?: number, signal?: AbortSignal } = {}): Promise<ModelArtifacts> {
  const maxModelBytes = options.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES
  await writeFrame(stream, encodeModelRequest(modelId), options)
  await stream.close(options)
  const reader = new FrameReader(stream, { maxFrameBytes: MAX_MODEL_FRAME_BYTES })
  const header = decodeModelHeader(await reader.expect('the model header'))
  if (header.type === 'error') throw errorFromCode(header.code, header.message)
  const total = header.modelJsonBytes + header.weightsBytes
  if (total > maxModelBytes) throw new MessageTooLargeError(`model of ${total} bytes exceeds ${maxModelBytes}`)
  const received = new Uint8ArrayList()
  while (received.byteLength < total) {
    received.append(await reader.expect('the rest of the model'))
    if (received.byteLength > total) throw new ProtocolError('more model bytes than announced')
  }
  if (await reader.next() != null) throw new ProtocolError('data after the model')
  return {
    modelJson: exact(received.subarray(0, header.modelJsonBytes)),
    weights: exact(received.subarray(header.modelJsonBytes, total))
  }
}

export class ModelTransferService implements ModelFetcher, Startable {
  readonly cache?: ModelCache
  private readonly maxModelBytes: number
  private readonly chunkBytes: number
  private readonly timeoutMs: number
  private readonly maxInboundStreams: number
  private readonly maxOutboundStreams: number
  private started = false

  constructor (private readonly components: ModelTransferComponents, init: ModelTransferInit = {}) {
    this.maxModelBytes = init.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES
    this.chunkBytes = Math.min(init.chunkBytes ?? DEFAULT_MODEL_CHUNK_BYTES, MAX_MODEL_FRAME_BYTES)
    this.timeoutMs = init.modelTransferTimeoutMs ?? DEFAULT_MODEL_TRANSFER_TIMEOUT_MS
    this.maxInboundStreams = init.maxModelInboundStreams ?? DEFAULT_MODEL_MAX_INBOUND_STREAMS
    this.maxOutboundStreams = init.maxModelOutboundStreams ?? DEFAULT_MODEL_MAX_OUTBOUND_STREAMS
    if (init.cacheDir != null) this.cache = new ModelCache({ dir: init.cacheDir, maxBytes: init.maxCacheBytes })
  }

  isStarted (): boolean {
    return this.started
  }

  /** Open the cache, load every cached model (dropping those that fail verification), register the handler. */
  async start (): Promise<void> {
    if (this.started) return
    if (this.cache != null) {
      await this.cache.open()
      for (const id of this.cache.ids()) await this.loadCached(id)
    }
    await this.components.registrar.handle(MODEL_PROTOCOL, this.handle, {
      maxInboundStreams: this.maxInboundStreams,
      maxOutboundStreams: this.maxOutboundStreams
    })
    this.started = true
  }

  async stop (): Promise<void> {
    if (!this.started) return
    await this.components.registrar.unhandle(MODEL_PROTOCOL)
    this.started = false
  }

  /** The inbound handler; never rejects. */
  readonly handle = async (stream: Stream): Promise<void> => {
    const timer = deadline(this.timeoutMs, () => new DeadlineExceededError('model transfer timed out'))
    const signal = timer.signal
    const onTimeout = (): void => { stream.abort(new DeadlineExceededError('model transfer timed out')) }
    signal.addEventListener('abort', onTimeout, { once: true })
    try {
      await serveModel(stream, this.components.models, { maxModelBytes: this.maxModelBytes, chunkBytes: this.chunkBytes, signal })
    } catch (err: any) {
      log.error('serving a model failed: %e', err)
      if (stream.status === 'open') stream.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      timer.clear()
      signal.removeEventListener('abort', onTimeout)
    }
  }

  async fetchModel (peerId: string, modelId: string, options: AbortOptions = {}): Promise<ModelInfo> {
    const timer = deadline(this.timeoutMs, () => new DeadlineExceededError('model transfer timed out'))
    const timeout = timer.signal
    const signal = options.signal == null ? timeout : AbortSignal.any([options.signal, timeout])
    let stream: Stream | undefined
    const onAbort = (): void => { stream?.abort(timeout.aborted ? new DeadlineExceededError('model transfer timed out') : new AbortError('model fetch aborted')) }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      stream = await this.components.connectionManager.openStream(peerIdFromString(peerId), MODEL_PROTOCOL, { signal })
      const artifacts = await requestModel(stream, modelId, { maxModelBytes: this.maxModelBytes, signal })
      const info = await this.components.models.loadFromArtifacts(artifacts, { expectedId: modelId, signal })
      await this.cache?.put(modelId, artifacts).catch(err => { log.error('caching model %s failed: %e', modelId, err) })
      return info
    } catch (err: any) {
      if (stream?.status === 'open') stream.abort(err instanceof Error ? err : new Error(String(err)))
      if (options.signal?.aborted === true) throw new AbortError('model fetch aborted')
      if (timeout.aborted) throw new DeadlineExceededError(`model transfer from ${peerId} took longer than ${this.timeoutMs} ms`)
      throw err
    } finally {
      timer.clear()
      signal.removeEventListener('abort', onAbort)
    }
  }

  async fetch (modelId: string, peers: string[], options: AbortOptions = {}): Promise<ModelInfo> {
    const loaded = this.components.models.get(modelId)
    if (loaded != null) return loaded
    const cached = await this.loadCached(modelId)
    if (cached != null) return cached
    const errors: Error[] = []
    for (const peerId of new Set(peers)) {
      try {
        return await this.fetchModel(peerId, modelId, options)
      } catch (err: any) {
        log('fetching %s from %s failed: %e', modelId, peerId, err)
        errors.push(err)
        if (err?.name === 'AbortError') break
      }
    }
    if (errors.length === 0) throw new ModelNotFoundError(`no peer to fetch model ${modelId} from`)
    throw new AllPeersFailedError(errors, `every peer failed to provide model ${modelId}`)
  }

  /** Load a cached model into the runtime; a cached entry that fails verification is deleted. */
  private async loadCached (modelId: string): Promise<ModelInfo | undefined> {
    const artifacts = await this.cache?.get(modelId)
    if (artifacts == null) return undefined
    try {
      return await this.components.models.loadFromArtifacts(artifacts, { expectedId: modelId })
    } catch (err) {
      log.error('cached model %s does not load, dropping it: %e', modelId, err)
      await this.cache?.delete(modelId)
      return undefined
    }
  }
}

/** Create model distribution: the `/edge-mesh/model/1.0.0` handler and the fetcher. */
export function createModelTransfer (components: ModelTransferComponents, init: ModelTransferInit = {}): ModelTransferService {
  return new ModelTransferService(components, init)
}
