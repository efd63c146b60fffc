/**
 * The spot checker: re-runs a random share of the results peers returned and
 * bans a peer whose answer differs from the reference.
 *
 * The reference is this node's own run when it holds the model. Otherwise a
 * second peer answers the same request; when the two peers disagree, this node
 * fetches the model (within its memory budget) and arbitrates, and every peer
 * that differs from its own run is banned. Only this node's own run convicts
 * anyone, so a liar cannot get an honest peer banned by contradicting it.
 *
 * A check runs before the answer is returned, within the request's deadline, so
 * a caught lie is never returned: the caller gets the reference outputs. A
 * check that cannot finish in time returns the peer's answer and counts as
 * `failed`.
 */
import { InternalError } from '../errors.js'
import { compareOutputs, emptySpotCheckCounts, shouldSpotCheck } from './spot-check.js'
import type { SpotCheckCounts } from './spot-check.js'
import type { InferOptions, InferResult } from './types.js'
import type { TensorData } from '../model/types.js'
import type { AbortOptions, Logger } from '@libp2p/interface'

/** One answer to the re-run request and who computed it. */
export interface Reference {
  outputs: TensorData[]
  servedBy: string
}

export interface SpotCheckerInit {
  selfId: string
  /** Share of remote results checked, 0..1. */
  rate: number
  /** Max absolute difference of float outputs still counted as equal. */
  tolerance: number
  random: () => number
  hasModel(modelId: string): boolean
  /** Run on this node, which holds the model. */
  runLocal(modelId: string, inputs: TensorData[], options: AbortOptions & { deadlineMs: number }): Promise<TensorData[]>
  /** Run through the offload client (with `exclude`, `prefer`), e.g. on a second peer or fetched here. */
  ask(modelId: string, inputs: TensorData[], options: InferOptions): Promise<Reference>
  /** Ban a peer caught answering wrongly. */
  ban(peerId: string, why: string): void
  log: Logger
}

export class SpotChecker {
  private readonly counts: SpotCheckCounts = emptySpotCheckCounts()

  constructor (private readonly init: SpotCheckerInit) {}

  stats (): SpotCheckCounts {
    return { ...this.counts }
  }

  /** Check `result` with probability `rate` (when a peer served it); resolves with the answer to return. */
  async check (modelId: string, inputs: TensorData[], result: InferResult, options: AbortOptions & { deadlineMs: number }): Promise<InferResult> {
    if (result.servedBy === this.init.selfId || !shouldSpotCheck(this.init.rate, this.init.random)) return result
    this.counts.checked++
    try {
      const verdict = await this.verify(modelId, inputs, result, options)
      if (verdict == null) return { ...result, spotCheck: 'match' }
      return { ...result, outputs: verdict, servedBy: this.init.selfId, spotCheck: 'mismatch' }
    } catch (err: any) {
      this.counts.failed++
      this.init.log('spot check of %s from %s failed: %s', modelId, result.servedBy, err?.name ?? err)
      return { ...result, spotCheck: 'failed' }
    }
  }

  /** `undefined` when the answer holds; else the outputs of this node's own run (after banning the liars). */
  private async verify (modelId: string, inputs: TensorData[], result: InferResult, options: AbortOptions & { deadlineMs: number }): Promise<TensorData[] | undefined> {
    const deadlineAt = performance.now() + options.deadlineMs
    const remaining = (): number => Math.max(1, Math.floor(deadlineAt - performance.now()))
    const reference: Reference = this.init.hasModel(modelId)
      ? { outputs: await this.init.runLocal(modelId, inputs, { signal: options.signal, deadlineMs: remaining() }), servedBy: this.init.selfId }
      : await this.init.ask(modelId, inputs, { signal: options.signal, deadlineMs: remaining(), prefer: 'remote', exclude: [result.servedBy] })
    if (compareOutputs(result.outputs, reference.outputs, this.init.tolerance).same) return undefined
    this.counts.mismatches++
    const own = reference.servedBy === this.init.selfId
      ? reference
      : await this.init.ask(modelId, inputs, { signal: options.signal, deadlineMs: remaining(), prefer: 'local' })
    if (own.servedBy !== this.init.selfId) throw new InternalError('two peers disagree and this node could not run the model itself')
    for (const answer of [result, reference]) {
      if (answer.servedBy === this.init.selfId) continue
      const comparison = compareOutputs(answer.outputs, own.outputs, this.init.tolerance)
      if (comparison.same) continue
      this.counts.bans++
      this.init.ban(answer.servedBy, `wrong inference result for ${modelId} (${comparison.reason ?? 'differs'})`)
    }
    return own.outputs
  }
}
