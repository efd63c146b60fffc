import { describe, expect, it } from 'vitest'
import { createInferenceEngine } from '../../../src/offload/server.js'
import { FakeRuntime, tensor } from './protocol-fixtures.js'
import type { InferenceEngine, EngineInit } from '../../../src/offload/server.js'
import type { LocalWork } from '../../../src/gossip/types.js'
import type { ServedResult } from '../../../src/offload/types.js'

interface Harness {
  runtime: FakeRuntime
  engine: InferenceEngine
  loads: Array<Partial<LocalWork>>
  release(): void
}

/** An engine over a fake runtime whose predict is held until `release()`. */
function harness (init: EngineInit = {}, held = true): Harness {
  const runtime = new FakeRuntime()
  let release = (): void => {}
  if (held) runtime.gate = new Promise<void>(resolve => { release = resolve })
  const loads: Array<Partial<LocalWork>> = []
  const engine = createInferenceEngine({ runtime, localLoad: { update: (w) => { loads.push(w) } } }, init)
  engine.start()
  return { runtime, engine, loads, release: () => { release() } }
}

const row = (i: number): number[][] => [[i, i + 1, i + 2, i + 3]]
const opts = { deadlineMs: 10_000 }
const values = (r: ServedResult): number[] => Array.from(r.outputs[0].data)

describe('inference engine admission', () => {
  it('refuses at once with PeerBusyError when slots and queue are full', async () => {
    const h = harness({ capacity: 1, maxQueue: 2, batching: false })
    const admitted = [0, 1, 2].map(i => h.engine.invoke('double', [tensor(row(i))], opts))
    await expect(h.engine.invoke('double', [tensor(row(3))], opts)).rejects.toThrow(expect.objectContaining({ name: 'PeerBusyError' }))
    expect(h.loads.at(-1)).toEqual({ inFlight: 1, queued: 2, capacity: 1 })
    h.release()
    const results = await Promise.all(admitted)
    expect(results.map(values)).toEqual([0, 1, 2].map(i => row(i)[0].map(v => v * 2)))
    expect(h.engine.stats()).toMatchObject({ completed: 3, rejectedBusy: 1, inFlight: 0, queued: 0 })
    expect(h.loads.at(-1)).toEqual({ inFlight: 0, queued: 0, capacity: 1 })
  })

  it('drops a request whose deadline passes while it waits', async () => {
    const h = harness({ capacity: 1, batching: false })
    const running = h.engine.invoke('double', [tensor(row(0))], opts)
    await expect(h.engine.invoke('double', [tensor(row(1))], { deadlineMs: 5 })).rejects.toThrow(expect.objectContaining({ name: 'DeadlineExceededError' }))
    expect(h.engine.stats()).toMatchObject({ expired: 1, queued: 0 })
    h.release()
    await running
    expect(h.runtime.calls).toEqual([1])
  })

  it('drops a waiting request whose signal aborts', async () => {
    const h = harness({ capacity: 1, batching: false })
    const running = h.engine.invoke('double', [tensor(row(0))], opts)
    const controller = new AbortController()
    const waiting = h.engine.invoke('double', [tensor(row(1))], { ...opts, signal: controller.signal })
    controller.abort()
    await expect(waiting).rejects.toThrow(expect.objectContaining({ name: 'AbortError' }))
    h.release()
    await running
    expect(h.engine.stats()).toMatchObject({ aborted: 1, completed: 1 })
  })

  it('refuses unknown models, bad shapes, spent deadlines and work when stopped', async () => {
    const h = harness({}, false)
    await expect(h.engine.invoke('nope', [tensor(row(0))], opts)).rejects.toThrow(expect.objectContaining({ name: 'ModelNotFoundError' }))
    await expect(h.engine.invoke('double', [tensor([[1, 2]])], opts)).rejects.toThrow(expect.objectContaining({ name: 'InvalidTensorError' }))
    await expect(h.engine.invoke('double', [tensor(row(0))], { deadlineMs: 0 })).rejects.toThrow(expect.objectContaining({ name: 'DeadlineExceededError' }))
    h.engine.stop()
    await expect(h.engine.invoke('double', [tensor(row(0))], opts)).rejects.toThrow(expect.objectContaining({ name: 'NotStartedError' }))
  })

  it('fails waiting requests with NotStartedError on stop', async () => {
    const h = harness({ capacity: 1, batching: false })
    const running = h.engine.invoke('double', [tensor(row(0))], opts)
    const waiting = h.engine.invoke('double', [tensor(row(1))], opts)
    h.engine.stop()
    await expect(waiting).rejects.toThrow(expect.objectContaining({ name: 'NotStartedError' }))
    h.release()
    await running
  })

  it('validates its settings', () => {
    const runtime = new FakeRuntime()
    for (const init of [{ capacity: 0 }, { maxQueue: -1 }, { maxBatchSize: 0 }, { maxBatchMs: 0 }, { simulateSlowdown: 0.5 }]) {
      expect(() => createInferenceEngine({ runtime }, init)).toThrow(expect.objectContaining({ name: 'InvalidConfigError' }))
    }
  })
})

describe('inference engine micro-batching', () => {
  const sizes = [1, 2, 1, 3, 1]

  async function runAll (engine: InferenceEngine): Promise<ServedResult[]> {
    return Promise.all(sizes.map((rows, i) => engine.invoke('double', [tensor(Array.from({ length: rows }, (_, r) => row(10 * i + r)[0]))], opts)))
  }

  it('merges concurrent requests into one predict and splits outputs like unbatched runs', async () => {
    const batched = harness({ capacity: 1, maxBatchSize: 8, maxBatchDelayMs: 60_000 }, false)
    const single = harness({ capacity: 1, batching: false }, false)
    const [a, b] = await Promise.all([runAll(batched.engine), runAll(single.engine)])
    expect(batched.runtime.calls).toEqual([8])
    expect(single.runtime.calls).toEqual(sizes)
    expect(a.map(values)).toEqual(b.map(values))
    expect(a.map(r => r.outputs[0].shape)).toEqual(sizes.map(n => [n, 4]))
    expect(a.every(r => r.batchSize === 5)).toBe(true)
    expect(batched.engine.stats()).toMatchObject({ batches: 1, batchedRequests: 5 })
  })

  it('by default runs a request at once on a free slot and batches those that queue while the slot is busy', async () => {
    const h = harness({ capacity: 1 }, false)
    const results = await Promise.all([0, 1, 2].map(i => h.engine.invoke('double', [tensor(row(i))], opts)))
    expect(results.map(r => r.batchSize)).toEqual([1, 2, 2])
    expect(h.runtime.calls).toEqual([1, 2])
  })

  it('sizes a batch by the model\'s measured time per row: no longer than maxBatchMs, one row until measured', async () => {
    const h = harness({ capacity: 1, maxBatchSize: 8, maxBatchDelayMs: 60_000, maxBatchMs: 100 }, false)
    h.runtime.msPerRow = 30
    expect(h.engine.batchRows('double')).toBe(3)
    await runAll(h.engine)
    // 8 rows in 5 requests: batches of at most 3 rows (100 ms at 30 ms per row), and some do batch.
    expect(h.runtime.calls.reduce((a, b) => a + b, 0)).toBe(8)
    expect(Math.max(...h.runtime.calls)).toBe(3)
    expect(h.engine.stats().batchedRequests).toBeGreaterThan(0)
    h.runtime.msPerRow = 500
    expect(h.engine.batchRows('double')).toBe(1)
    h.runtime.msPerRow = 0.01
    expect(h.engine.batchRows('double')).toBe(8)
    h.runtime.msPerRow = undefined
    expect(h.engine.batchRows('double')).toBe(1)
    expect(h.engine.batchRows('not-loaded')).toBe(8)
    expect(harness({ batching: false }, false).engine.batchRows('double')).toBe(1)
  })

  it('refuses a malformed request alone; the others still batch', async () => {
    const h = harness({ capacity: 1, maxBatchSize: 3, maxBatchDelayMs: 60_000 }, false)
    const good = [0, 1, 2].map(i => h.engine.invoke('double', [tensor(row(i))], opts))
    const bad = h.engine.invoke('double', [tensor([[1, 2, 3]])], opts)
    await expect(bad).rejects.toThrow(expect.objectContaining({ name: 'InvalidTensorError' }))
    const results = await Promise.all(good)
    expect(results.map(r => r.batchSize)).toEqual([3, 3, 3])
  })

  it('reruns a failed batch one by one so only the culprit fails', async () => {
    const h = harness({ capacity: 1, maxBatchSize: 3, maxBatchDelayMs: 60_000 }, false)
    h.runtime.failWhen = (inputs) => inputs[0].data.includes(666)
    const outcomes = await Promise.allSettled([0, 666, 2].map(i => h.engine.invoke('double', [tensor(row(i))], opts)))
    expect(outcomes.map(o => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(outcomes[1].status === 'rejected' && outcomes[1].reason.name).toBe('InvalidTensorError')
    expect(outcomes[0].status === 'fulfilled' && outcomes[0].value.batchSize).toBe(1)
    expect(h.runtime.calls).toEqual([3, 1, 1, 1])
    expect(h.engine.stats()).toMatchObject({ batchFallbacks: 1, completed: 2, failed: 1 })
  })

  it('stretches service time with simulateSlowdown and still answers', async () => {
    const h = harness({ simulateSlowdown: 3 }, false)
    // Time the runtime's own predict: the engine reports 3 x its compute time, and holds the slot that long.
    const predict = h.runtime.predict.bind(h.runtime)
    let predictMs = 0
    h.runtime.predict = async (id, inputs) => {
      const start = performance.now()
      try { return await predict(id, inputs) } finally { predictMs = performance.now() - start }
    }
    const start = performance.now()
    const result = await h.engine.invoke('double', [tensor(row(1))], opts)
    const wallMs = performance.now() - start
    expect(values(result)).toEqual([2, 4, 6, 8])
    expect(predictMs).toBeGreaterThan(0)
    expect(result.computeMs).toBeGreaterThanOrEqual(3 * predictMs)
    expect(wallMs).toBeGreaterThanOrEqual(result.computeMs)
  })
})
