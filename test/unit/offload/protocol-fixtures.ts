/**
 * Test doubles of the offload wire tests: a fake ModelRuntime whose models do
 * plain arithmetic (y = factor * x), with hooks to hold `predict` until a test
 * releases it and to fail on chosen inputs; and a content-addressed artifact
 * store for model transfer.
 */
import { createHash } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { InvalidModelError, InvalidTensorError, ModelNotFoundError } from '../../../src/errors.js'
import type { Stream } from '@libp2p/interface'
import type { ModelArtifacts, ModelInfo, ModelRuntime, TensorData } from '../../../src/model/types.js'

export interface FakeModel {
  info: ModelInfo
  factor: number
}

/** Content id of artifacts, as the fake computes it. */
export function fakeContentId (artifacts: ModelArtifacts): string {
  return `sha256-${createHash('sha256').update(artifacts.modelJson).update(artifacts.weights).digest('hex')}`
}

export function modelInfo (id: string, inputShapes: number[][] = [[-1, 4]]): ModelInfo {
  return { id, name: id, inputShapes, outputShapes: inputShapes, parameters: 0, sizeBytes: 0 }
}

export function tensor (rows: number[][]): TensorData {
  return { dtype: 'float32', shape: [rows.length, rows[0].length], data: Float32Array.from(rows.flat()) }
}

export class FakeRuntime {
  readonly backend = 'cpu' as const
  readonly models = new Map<string, FakeModel>()
  readonly artifacts = new Map<string, ModelArtifacts>()
  /** Rows of every predict call, in order. */
  readonly calls: number[] = []
  /** When set, predict waits for it. */
  gate?: Promise<void>
  /** When true for an input, predict throws (a runtime failure). */
  failWhen?: (inputs: TensorData[]) => boolean

  constructor (models: Record<string, number> = { double: 2 }) {
    for (const [id, factor] of Object.entries(models)) this.models.set(id, { info: modelInfo(id), factor })
  }

  /** The measured time per row `get` reports (the engine sizes batches by it); undefined: not measured yet. */
  msPerRow?: number = 0.01

  get (id: string): ModelInfo | undefined {
    const info = this.models.get(id)?.info
    if (info == null || this.msPerRow == null) return info
    return { ...info, timing: { calls: this.calls.length, p50Ms: this.msPerRow, p50MsPerRow: this.msPerRow } }
  }

  has (id: string): boolean {
    return this.models.has(id)
  }

  list (): ModelInfo[] {
    return [...this.models.values()].map(m => m.info)
  }

  async predict (id: string, inputs: TensorData[]): Promise<TensorData[]> {
    const model = this.models.get(id)
    if (model == null) throw new ModelNotFoundError(id)
    this.calls.push(inputs[0].shape[0])
    await this.gate
    if (this.failWhen?.(inputs) === true) throw new InvalidTensorError('fake runtime refuses this input')
    return inputs.map(t => ({ dtype: t.dtype, shape: [...t.shape], data: t.data.map(v => v * model.factor) }))
  }

  exportArtifacts (id: string): ModelArtifacts {
    const artifacts = this.artifacts.get(id)
    if (artifacts == null) throw new ModelNotFoundError(id)
    return artifacts
  }

  /** Register artifacts as a loaded model; returns its content id. */
  addArtifacts (artifacts: ModelArtifacts): string {
    const id = fakeContentId(artifacts)
    this.artifacts.set(id, artifacts)
    this.models.set(id, { info: { ...modelInfo(id), sizeBytes: artifacts.modelJson.length + artifacts.weights.length }, factor: 1 })
    return id
  }

  async loadFromArtifacts (artifacts: ModelArtifacts, options: { expectedId?: string } = {}): Promise<ModelInfo> {
    const id = fakeContentId(artifacts)
    if (options.expectedId != null && options.expectedId !== id) throw new InvalidModelError(`content id ${id} is not ${options.expectedId}`)
    this.addArtifacts(artifacts)
    return this.get(id) as ModelInfo
  }
}

/** The fake as the slice of ModelRuntime the code under test uses. */
export function asRuntime (fake: FakeRuntime): ModelRuntime {
  return fake as unknown as ModelRuntime
}

/** A fresh peer id string. */
export async function randomPeerId (): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

/**
 * A connection manager whose `openStream` returns one end of an in-memory
 * stream pair and hands the other end to `handle`; `served` holds the
 * handlers' promises (they must all resolve) and `opened` the peers asked for.
 */
export function pairedConnectionManager (handle: (stream: Stream, protocol: string) => Promise<void>): {
  openStream(peer: { toString(): string }, protocol: string | string[]): Promise<Stream>
  served: Array<Promise<void>>
  opened: string[]
} {
  const served: Array<Promise<void>> = []
  const opened: string[] = []
  return {
    served,
    opened,
    async openStream (peer, protocol) {
      opened.push(peer.toString())
      const [outbound, inbound] = await streamPair()
      served.push(handle(inbound, Array.isArray(protocol) ? protocol[0] : protocol))
      return outbound
    }
  }
}
