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
import { serviceCapabilities, serviceDependencies } from '@libp2p/interface'
import { CAPABILITY } from '../capabilities.js'
import { AllPeersFailedError, MessageTooLargeError, ModelBudgetExceededError, ModelNotFoundError, NotStartedError, ProtocolError } from '../errors.js'
import { FrameReader, Uint8ArrayList, writeFrame, writeFrames } from '../wire/framing.js'
import { request } from '../wire/request.js'
import { serveWithDeadline } from '../wire/serve.js'
import { errorFromCode } from '../wire/error-codes.js'
import {
  DEFAULT_MAX_CONCURRENT_FETCHES, DEFAULT_MAX_MODEL_BYTES, DEFAULT_MODEL_CHUNK_BYTES, DEFAULT_MODEL_MAX_INBOUND_STREAMS,
  DEFAULT_MODEL_MAX_OUTBOUND_STREAMS, DEFAULT_MODEL_TRANSFER_TIMEOUT_MS, MAX_MODEL_FRAME_BYTES, MODEL_PROTOCOL
} from './constants.js'
import { ModelCache } from './cache.js'
import { createModelEnsurer } from './ensure.js'
import { decodeList, decodeModelHeader, decodeModelQuery, encodeErrorHeader, encodeFoundHeader, encodeList, encodeListRequest, encodeModelRequest } from './wire.js'
import { ModelNames } from './names.js'
import { NAME_QUERY_TIMEOUT_MS } from './constants.js'
import type { ListedModel } from './wire.js'
import type { PeerLoad } from '../gossip/types.js'
import type { EnsureModel, EnsureOptions } from './ensure.js'
import type { ModelTransfer, ModelTransferComponents, ModelTransferInit } from './index.js'
import type { ModelArtifacts, ModelInfo } from '../model/types.js'
import type { AbortOptions, Logger, Startable, Stream } from '@libp2p/interface'

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

/**
 * The server's side of one stream: read the request, answer header + data (or,
 * for a list request, the ids and names of the models held), close. Throws on stream failure.
 */
export async function serveModel (stream: Stream, models: Pick<ModelTransferComponents['models'], 'has' | 'exportArtifacts'> & { get?: ModelTransferComponents['models']['get'], list?: ModelTransferComponents['models']['list'] }, options: ServeOptions = {}): Promise<void> {
  const maxModelBytes = options.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES
  const signal = options.signal
  let artifacts: ModelArtifacts | undefined
  let header: Uint8Array
  try {
    const query = decodeModelQuery(await new FrameReader(stream, { maxFrameBytes: MAX_MODEL_FRAME_BYTES }).expect('the model request'))
    if (query.type === 'list') {
      await writeFrame(stream, encodeList((models.list?.() ?? []).map(m => ({ id: m.id, name: m.name }))), { signal })
      await stream.close({ signal })
      return
    }
    const modelId = query.modelId
    if (!models.has(modelId)) throw new ModelNotFoundError(`model ${modelId} is not loaded here`)
    artifacts = models.exportArtifacts(modelId)
    const size = artifacts.modelJson.length + artifacts.weights.length
    if (size > maxModelBytes) throw new MessageTooLargeError(`model of ${size} bytes exceeds ${maxModelBytes}`)
    header = encodeFoundHeader(artifacts.modelJson.length, artifacts.weights.length, models.get?.(modelId)?.name)
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

/**
 * The client's side of one stream: send the request, read header and exactly the announced bytes.
 * `admits` is asked about the announced size before any model byte is read (the model memory budget).
 */
export async function requestModel (stream: Stream, modelId: string, options: { maxModelBytes?: number, signal?: AbortSignal, admits?(bytes: number): boolean, onName?(name: string): void } = {}): Promise<ModelArtifacts> {
  const maxModelBytes = options.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES
  await writeFrame(stream, encodeModelRequest(modelId), options)
  await stream.close(options)
  const reader = new FrameReader(stream, { maxFrameBytes: MAX_MODEL_FRAME_BYTES })
  const header = decodeModelHeader(await reader.expect('the model header'))
  if (header.type === 'error') throw errorFromCode(header.code, header.message)
  if (header.name != null) options.onName?.(header.name)
  const total = header.modelJsonBytes + header.weightsBytes
  if (total > maxModelBytes) throw new MessageTooLargeError(`model of ${total} bytes exceeds ${maxModelBytes}`)
  if (options.admits?.(total) === false) throw new ModelBudgetExceededError(`model ${modelId} of ${total} bytes does not fit the model memory budget`)
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

/** The client's side of a list request: the ids and names of the models the peer holds. */
export async function requestModelList (stream: Stream, options: AbortOptions = {}): Promise<ListedModel[]> {
  await writeFrame(stream, encodeListRequest(), options)
  await stream.close(options)
  const reader = new FrameReader(stream, { maxFrameBytes: MAX_MODEL_FRAME_BYTES })
  const models = decodeList(await reader.expect('the model list'))
  if (await reader.next() != null) throw new ProtocolError('data after the model list')
  return models
}

export class ModelTransferService implements ModelTransfer, Startable {
  readonly [Symbol.toStringTag] = '@edge-mesh/model-transfer'
  readonly [serviceCapabilities]: string[] = [CAPABILITY.modelTransfer]
  readonly [serviceDependencies]: string[] = [CAPABILITY.models, CAPABILITY.loadView]
  readonly cache?: ModelCache
  private readonly log: Logger
  private readonly selfId: string
  private readonly maxModelBytes: number
  private readonly chunkBytes: number
  private readonly timeoutMs: number
  private readonly maxInboundStreams: number
  private readonly maxOutboundStreams: number
  private readonly ensurer: EnsureModel
  /** Names of models in the mesh, for `resolve` and for naming fetched models. */
  readonly names: ModelNames
  private shutdown = new AbortController()
  private started = false

  constructor (private readonly components: ModelTransferComponents, init: ModelTransferInit = {}) {
    this.log = components.logger.forComponent('edge-mesh:model-transfer')
    this.selfId = components.peerId.toString()
    this.maxModelBytes = init.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES
    this.chunkBytes = Math.min(init.chunkBytes ?? DEFAULT_MODEL_CHUNK_BYTES, MAX_MODEL_FRAME_BYTES)
    this.timeoutMs = init.modelTransferTimeoutMs ?? DEFAULT_MODEL_TRANSFER_TIMEOUT_MS
    this.maxInboundStreams = init.maxModelInboundStreams ?? DEFAULT_MODEL_MAX_INBOUND_STREAMS
    this.maxOutboundStreams = init.maxModelOutboundStreams ?? DEFAULT_MODEL_MAX_OUTBOUND_STREAMS
    if (init.cacheDir != null) this.cache = new ModelCache({ dir: init.cacheDir, maxBytes: init.maxCacheBytes, log: this.log.newScope('cache') })
    this.ensurer = createModelEnsurer({
      models: components.models,
      sources: (modelId, from) => this.sources(modelId, from),
      fetch: async (modelId, peers, options) => this.fetch(modelId, peers, options),
      timeoutMs: this.timeoutMs,
      maxConcurrent: init.maxConcurrentFetches ?? DEFAULT_MAX_CONCURRENT_FETCHES,
      stopSignal: () => this.shutdown.signal
    })
    this.names = new ModelNames({
      local: () => components.models.list(),
      announced: () => components.loadView.peers().filter(p => p.peerId !== this.selfId).map(p => ({ peerId: p.peerId, models: p.report.models })),
      list: async (peerId, options) => this.listModels(peerId, options)
    })
  }

  isStarted (): boolean {
    return this.started
  }

  /** Open the cache and register the handler. */
  async start (): Promise<void> {
    if (this.started) return
    this.shutdown = this.shutdown.signal.aborted ? new AbortController() : this.shutdown
    await this.cache?.open()
    await this.components.registrar.handle(MODEL_PROTOCOL, this.handle, {
      maxInboundStreams: this.maxInboundStreams,
      maxOutboundStreams: this.maxOutboundStreams
    })
    this.started = true
  }

  /**
   * Load every cached model into the runtime (dropping those that fail
   * verification). After start, because libp2p starts services together and
   * the model runtime must be running first. Then learn the names of the models peers announce.
   */
  async afterStart (): Promise<void> {
    for (const id of this.cache?.ids() ?? []) await this.loadCached(id)
    this.components.loadView.addEventListener?.('load:report', this.onReport)
  }

  private readonly onReport = (evt: CustomEvent<PeerLoad>): void => {
    if (this.started && evt.detail.peerId !== this.selfId) this.names.learnInBackground(evt.detail.peerId, evt.detail.report.models)
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    this.shutdown.abort(new NotStartedError('model transfer stopped'))
    this.components.loadView.removeEventListener?.('load:report', this.onReport)
    await this.components.registrar.unhandle(MODEL_PROTOCOL)
  }

  /** The inbound handler; never rejects. */
  readonly handle = async (stream: Stream): Promise<void> => {
    await serveWithDeadline(stream, async (signal) => {
      await serveModel(stream, this.components.models, { maxModelBytes: this.maxModelBytes, chunkBytes: this.chunkBytes, signal })
    }, { timeoutMs: this.timeoutMs, what: 'model transfer', onError: (err) => { this.log.error('serving a model failed: %e', err) } })
  }

  async ensure (modelId: string, options?: EnsureOptions): Promise<void> {
    return this.ensurer(modelId, options)
  }

  /** `from` first, then the peers whose load reports announce the model; never this node. */
  private sources (modelId: string, from: string[]): string[] {
    const announcers = this.components.loadView.peers().filter((p) => p.report.models.includes(modelId)).map((p) => p.peerId)
    return [...new Set([...from, ...announcers])].filter((p) => p !== this.selfId)
  }

  async fetchModel (peerId: string, modelId: string, options: AbortOptions = {}): Promise<ModelInfo> {
    return request(this.components.connectionManager, peerId, MODEL_PROTOCOL, async (stream, signal) => {
      const admits = this.components.models.admits?.bind(this.components.models)
      let name: string | undefined
      const artifacts = await requestModel(stream, modelId, { maxModelBytes: this.maxModelBytes, signal, admits, onName: (n) => { name = n } })
      name ??= this.names.nameOf(modelId)
      const info = await this.components.models.loadFromArtifacts(artifacts, { expectedId: modelId, signal, ...(name != null ? { name } : {}) })
      if (name != null) this.names.remember(modelId, name)
      await this.cache?.put(modelId, artifacts, name).catch(err => { this.log.error('caching model %s failed: %e', modelId, err) })
      return info
    }, { timeoutMs: this.timeoutMs, what: 'model fetch', signal: options.signal })
  }

  /** Ask `peerId` which models it holds (ids and names). */
  async listModels (peerId: string, options: AbortOptions = {}): Promise<ListedModel[]> {
    return request(this.components.connectionManager, peerId, MODEL_PROTOCOL, async (stream, signal) => requestModelList(stream, { signal }),
      { timeoutMs: NAME_QUERY_TIMEOUT_MS, what: 'model list', signal: options.signal })
  }

  async resolve (nameOrId: string, options: AbortOptions = {}): Promise<string> {
    return this.names.resolve(nameOrId, options)
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
        this.log('fetching %s from %s failed: %e', modelId, peerId, err)
        errors.push(err)
        // The budget refuses the model whoever sends it: asking the next peer would fail the same way.
        if (err?.name === 'ModelBudgetExceededError') throw err
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
    const name = await this.cache?.nameOf(modelId)
    try {
      return await this.components.models.loadFromArtifacts(artifacts, { expectedId: modelId, ...(name != null ? { name } : {}) })
    } catch (err: any) {
      if (err?.name === 'NotStartedError' || err?.name === 'ModelBudgetExceededError') return undefined
      this.log.error('cached model %s does not load, dropping it: %e', modelId, err)
      await this.cache?.delete(modelId)
      return undefined
    }
  }
}
