/**
 * The node's inference execution engine, shared by local requests and requests
 * served for peers (it is the `LocalInvoker`, and the infer handler calls it).
 *
 * - `capacity` execution slots: each runs one `runtime.predict` (a micro-batch
 *   counts as one);
 * - a bounded queue: when `maxQueue` requests already wait beyond what the
 *   free slots will take, a new one is refused at once with PeerBusyError so
 *   the caller can go elsewhere;
 * - deadlines: a request whose deadline passes while it waits is dropped with
 *   DeadlineExceededError; an aborted signal drops it with AbortError;
 * - dynamic micro-batching (see `queue.ts` and `batcher.ts`); when a batch's
 *   predict fails, its requests are run again one by one so only the culprit fails;
 * - `simulateSlowdown`: after computing, a slot stays busy `(factor - 1) x
 *   computeMs` longer, to emulate a slower device;
 * - `simulateServiceMs`: a slot stays busy at least this long per predict,
 *   whatever the compute took: a device with a fixed service time, immune to
 *   how busy this machine happens to be (benchmarks use it);
 * - every change of busy slots or queue length is reported to `LocalLoad`.
 */
import { logger } from '@libp2p/logger'
import { AbortError, DeadlineExceededError, InvalidConfigError, ModelNotFoundError, NotStartedError, PeerBusyError } from '../errors.js'
import { batchKey, concatInputs, sliceRows, splitOutputs, validateInputs } from './batcher.js'
import {
  DEFAULT_BATCHING, DEFAULT_CAPACITY, DEFAULT_MAX_BATCH_DELAY_MS, DEFAULT_MAX_BATCH_MS, DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_QUEUE,
  DEFAULT_SIMULATE_SLOWDOWN, DEFAULT_SIMULATE_SERVICE_MS,
  MAX_ROWS_PER_PREDICT
} from './constants.js'
import { RequestQueue, selectBatch } from './queue.js'
import { MAX_TIMER_MS } from '../wire/deadline.js'
import type { Queued } from './queue.js'
import type { LocalLoad } from '../gossip/types.js'
import type { ModelInfo, ModelRuntime, TensorData } from '../model/types.js'
import type { LocalInvoker, ServedResult } from './types.js'
import type { AbortOptions, Logger, Startable } from '@libp2p/interface'

export interface EngineInit {
  /** Concurrent `predict` calls. @default 4 */
  capacity?: number
  /** Requests that may wait for a slot (on top of those free slots are about to take). @default 32 */
  maxQueue?: number
  /** Merge concurrent requests for the same model and shapes. @default true */
  batching?: boolean
  /** Most rows in one micro-batch. @default 16 */
  maxBatchSize?: number
  /** Longest a forming micro-batch waits for company while a slot is free, ms (0: adaptive batching from the queue). @default 0 */
  maxBatchDelayMs?: number
  /** Longest a micro-batch should compute (from the model's measured time per row), ms; see `batchRows`. @default 100 */
  maxBatchMs?: number
  /** Service-time stretch factor that emulates a slower device, >= 1. @default 1 */
  simulateSlowdown?: number
  /** Fixed service time per predict that emulates a slower device, ms (0: off). @default 0 */
  simulateServiceMs?: number
}

export interface EngineComponents {
  runtime: Pick<ModelRuntime, 'get' | 'predict'>
  /** Receives `inFlight` (busy slots), `queued` and `capacity` on every change. */
  localLoad?: Pick<LocalLoad, 'update'>
  /** The offload service's logger. @default `edge-mesh:offload:engine` */
  log?: Logger
}

/** Counters of the engine, for status and metrics. */
export interface EngineStats {
  capacity: number
  /** Busy slots. */
  inFlight: number
  /** Requests being executed (a batch counts each of its requests). */
  inFlightRequests: number
  queued: number
  submitted: number
  completed: number
  failed: number
  rejectedBusy: number
  expired: number
  aborted: number
  batches: number
  /** Requests that ran in batches of two or more. */
  batchedRequests: number
  /** Batches whose predict failed and were rerun one request at a time. */
  batchFallbacks: number
}

interface Job extends Queued {
  modelId: string
  inputs: TensorData[]
  deadlineAt: number
  settled: boolean
  resolve(result: ServedResult): void
  reject(err: Error): void
  cleanup(): void
}

type Counter = Exclude<keyof EngineStats, 'capacity' | 'inFlight' | 'inFlightRequests' | 'queued'>

/** A delay that is an emulation of a slow device, not a wait for an event. */
async function stretch (ms: number): Promise<void> {
  if (ms > 0) await new Promise(resolve => setTimeout(resolve, ms))
}

function checkInit (init: Required<EngineInit>): void {
  const positiveInt = (v: number): boolean => Number.isInteger(v) && v >= 1
  if (!positiveInt(init.capacity)) throw new InvalidConfigError('capacity must be an integer >= 1')
  if (!Number.isInteger(init.maxQueue) || init.maxQueue < 0) throw new InvalidConfigError('maxQueue must be an integer >= 0')
  if (!positiveInt(init.maxBatchSize)) throw new InvalidConfigError('maxBatchSize must be an integer >= 1')
  if (!(init.maxBatchDelayMs >= 0)) throw new InvalidConfigError('maxBatchDelayMs must be >= 0')
  if (!(init.maxBatchMs > 0)) throw new InvalidConfigError('maxBatchMs must be > 0')
  if (!(init.simulateSlowdown >= 1) || !Number.isFinite(init.simulateSlowdown)) throw new InvalidConfigError('simulateSlowdown must be a finite number >= 1')
  if (!(init.simulateServiceMs >= 0) || !Number.isFinite(init.simulateServiceMs)) throw new InvalidConfigError('simulateServiceMs must be a finite number >= 0')
}

export class InferenceEngine implements Startable {
  readonly settings: Readonly<Required<EngineInit>>
  private readonly queue: RequestQueue<Job>
  private readonly counters: Record<Counter, number> = {
    submitted: 0, completed: 0, failed: 0, rejectedBusy: 0, expired: 0, aborted: 0, batches: 0, batchedRequests: 0, batchFallbacks: 0
  }

  private started = false
  private busySlots = 0
  private runningRequests = 0
  private batchTimer?: ReturnType<typeof setTimeout>
  private reported = ''
  private readonly log: Logger

  constructor (private readonly components: EngineComponents, init: EngineInit = {}) {
    this.log = components.log ?? logger('edge-mesh:offload:engine')
    this.settings = {
      capacity: init.capacity ?? DEFAULT_CAPACITY,
      maxQueue: init.maxQueue ?? DEFAULT_MAX_QUEUE,
      batching: init.batching ?? DEFAULT_BATCHING,
      maxBatchSize: init.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE,
      maxBatchDelayMs: init.maxBatchDelayMs ?? DEFAULT_MAX_BATCH_DELAY_MS,
      maxBatchMs: init.maxBatchMs ?? DEFAULT_MAX_BATCH_MS,
      simulateSlowdown: init.simulateSlowdown ?? DEFAULT_SIMULATE_SLOWDOWN,
      simulateServiceMs: init.simulateServiceMs ?? DEFAULT_SIMULATE_SERVICE_MS
    }
    checkInit(this.settings)
    this.queue = new RequestQueue()
  }

  /**
   * Most rows one batch of `modelId` takes here: 1 with batching off, for a
   * model whose batch size is fixed, and until the model's time per row has
   * been measured; otherwise as many rows as fit in `maxBatchMs` at its
   * measured p50 time per row, between 1 and `maxBatchSize`. A model not
   * loaded here gets `maxBatchSize` (its holders batch as they measure).
   */
  batchRows (modelId: string): number {
    return this.rowsFor(this.components.runtime.get(modelId))
  }

  private rowsFor (info: ModelInfo | undefined): number {
    const { batching, maxBatchSize, maxBatchMs } = this.settings
    if (!batching) return 1
    if (info == null) return maxBatchSize
    const perRow = info.timing?.p50MsPerRow
    if (info.fixedBatch === true || perRow == null) return 1
    return Math.max(1, Math.min(maxBatchSize, Math.floor(maxBatchMs / Math.max(perRow, 1e-3))))
  }

  /** This engine as a `LocalInvoker`. */
  readonly invoke: LocalInvoker = async (modelId, inputs, options) => this.submit(modelId, inputs, options)

  isStarted (): boolean {
    return this.started
  }

  start (): void {
    this.started = true
    this.reportLoad()
  }

  /** Refuse new work and fail waiting requests with NotStartedError; running ones finish. */
  stop (): void {
    if (!this.started) return
    this.started = false
    clearTimeout(this.batchTimer)
    for (const job of this.queue.drain()) this.fail(job, new NotStartedError('engine stopped'))
    this.reportLoad()
  }

  stats (): EngineStats {
    return {
      capacity: this.settings.capacity,
      inFlight: this.busySlots,
      inFlightRequests: this.runningRequests,
      queued: this.queue.size,
      ...this.counters
    }
  }

  /** Requests admitted and not answered (running or queued), and the slots: the load sent with every 1.1.0 reply. */
  load (): { outstanding: number, capacity: number } {
    return { outstanding: this.runningRequests + this.queue.size, capacity: this.settings.capacity }
  }

  /** Admit a request or refuse it at once (NotStarted, Abort, DeadlineExceeded, ModelNotFound, InvalidTensor, PeerBusy). */
  async submit (modelId: string, inputs: TensorData[], options: AbortOptions & { deadlineMs: number }): Promise<ServedResult> {
    if (!this.started) throw new NotStartedError('engine not started')
    if (options.signal?.aborted === true) throw new AbortError('aborted before admission')
    if (!(options.deadlineMs > 0)) {
      this.counters.expired++
      throw new DeadlineExceededError('deadline passed before admission')
    }
    const info = this.components.runtime.get(modelId)
    if (info == null) throw new ModelNotFoundError(`model ${modelId} is not loaded`)
    const rows = validateInputs(info, inputs)
    if (this.queue.size >= this.settings.maxQueue + this.settings.capacity - this.busySlots) {
      this.counters.rejectedBusy++
      throw new PeerBusyError(`queue full (${this.queue.size} waiting, ${this.busySlots}/${this.settings.capacity} slots busy)`)
    }
    this.counters.submitted++
    return new Promise<ServedResult>((resolve, reject) => {
      const now = performance.now()
      const job: Job = {
        key: batchKey(modelId, inputs), rows, enqueuedAt: now, alone: info.fixedBatch === true, maxRows: this.rowsFor(info), modelId, inputs,
        deadlineAt: now + options.deadlineMs, settled: false, resolve, reject, cleanup: () => {}
      }
      this.watch(job, options)
      this.queue.push(job)
      this.dispatch()
    })
  }

  /** Arm the job's deadline timer and abort listener; `cleanup` disarms both. */
  private watch (job: Job, options: AbortOptions & { deadlineMs: number }): void {
    const timer = setTimeout(() => { this.drop(job, 'expired', new DeadlineExceededError('deadline passed while queued')) }, Math.min(options.deadlineMs, MAX_TIMER_MS))
    const onAbort = (): void => { this.drop(job, 'aborted', new AbortError('aborted by the caller')) }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    job.cleanup = () => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Drop a job that expired or was aborted: out of the queue if it waits, its result ignored if it runs. */
  private drop (job: Job, counter: 'expired' | 'aborted', err: Error): void {
    if (job.settled) return
    if (counter === 'expired' && this.queue.remove(job) === 0) return
    this.queue.remove(job)
    this.counters[counter]++
    this.fail(job, err)
    this.dispatch()
  }

  private fail (job: Job, err: Error): void {
    if (job.settled) return
    job.settled = true
    job.cleanup()
    this.counters.failed++
    job.reject(err)
  }

  private succeed (job: Job, result: ServedResult): void {
    if (job.settled) return
    job.settled = true
    job.cleanup()
    this.counters.completed++
    job.resolve(result)
  }

  /** Start batches while slots are free; arm a timer when a batch is still forming. */
  private dispatch (): void {
    clearTimeout(this.batchTimer)
    this.batchTimer = undefined
    while (this.started && this.busySlots < this.settings.capacity) {
      const choice = selectBatch(this.queue.list(), performance.now(), this.settings)
      if (choice == null) break
      if ('waitMs' in choice) {
        this.batchTimer = setTimeout(() => { this.dispatch() }, Math.max(0, choice.waitMs))
        break
      }
      this.queue.remove(...choice.batch)
      this.busySlots++
      this.runningRequests += choice.batch.length
      void this.run(choice.batch).finally(() => {
        this.busySlots--
        this.runningRequests -= choice.batch.length
        this.dispatch()
      })
    }
    this.reportLoad()
  }

  /**
   * Run `predict` at most `MAX_ROWS_PER_PREDICT` rows at a time, yielding to the
   * event loop between chunks, so a huge request never blocks the node (and
   * the requests of everyone else) for long.
   */
  private async predictInChunks (modelId: string, inputs: TensorData[]): Promise<TensorData[]> {
    const rows = inputs[0]?.shape[0] ?? 0
    if (rows <= MAX_ROWS_PER_PREDICT) return await this.components.runtime.predict(modelId, inputs)
    const parts: TensorData[][] = []
    for (let start = 0; start < rows; start += MAX_ROWS_PER_PREDICT) {
      if (start > 0) await new Promise(resolve => setImmediate(resolve))
      parts.push(await this.components.runtime.predict(modelId, sliceRows(inputs, start, Math.min(rows, start + MAX_ROWS_PER_PREDICT))))
    }
    return concatInputs(parts)
  }

  /** Run `predict`, then hold the slot for the emulated slowdown; returns outputs and service time. */
  private async predict (modelId: string, inputs: TensorData[]): Promise<{ outputs: TensorData[], computeMs: number }> {
    const start = performance.now()
    const outputs = await this.predictInChunks(modelId, inputs)
    const computeMs = performance.now() - start
    const serviceMs = Math.max(computeMs * this.settings.simulateSlowdown, this.settings.simulateServiceMs)
    await stretch(serviceMs - computeMs)
    return { outputs, computeMs: serviceMs }
  }

  private async run (batch: Job[]): Promise<void> {
    this.counters.batches++
    const startedAt = performance.now()
    if (batch.length > 1) {
      try {
        const { outputs, computeMs } = await this.predict(batch[0].modelId, concatInputs(batch.map(j => j.inputs)))
        const parts = splitOutputs(outputs, batch.map(j => j.rows))
        this.counters.batchedRequests += batch.length
        batch.forEach((job, i) => {
          this.succeed(job, { outputs: parts[i], queueMs: startedAt - job.enqueuedAt, computeMs, batchSize: batch.length })
        })
        return
      } catch (err) {
        this.counters.batchFallbacks++
        this.log('batch of %d for %s failed, running its requests one by one: %e', batch.length, batch[0].modelId, err)
      }
    }
    for (const job of batch) await this.runAlone(job)
  }

  private async runAlone (job: Job): Promise<void> {
    if (job.settled) return
    const startedAt = performance.now()
    try {
      const { outputs, computeMs } = await this.predict(job.modelId, job.inputs)
      this.succeed(job, { outputs, queueMs: startedAt - job.enqueuedAt, computeMs, batchSize: 1 })
    } catch (err: any) {
      this.fail(job, err instanceof Error ? err : new Error(String(err)))
    }
  }

  private reportLoad (): void {
    const work = { inFlight: this.busySlots, queued: this.queue.size, capacity: this.settings.capacity }
    const key = `${work.inFlight}/${work.queued}/${work.capacity}`
    if (key === this.reported) return
    this.reported = key
    this.components.localLoad?.update(work)
  }
}

/** Create an engine; call `start()` before submitting work. */
export function createInferenceEngine (components: EngineComponents, init: EngineInit = {}): InferenceEngine {
  return new InferenceEngine(components, init)
}
