import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ModelNotFoundError, PeerBusyError, InvalidTensorError } from '../../../src/errors.js'
import { OffloadClient } from '../../../src/offload/client.js'
import { pipelineExtra, PipelineDepths, pullCandidate, requestsWithinBudget, shouldPark, withRoom } from '../../../src/offload/parked.js'
import type { LateBindingState } from '../../../src/offload/parked.js'
import type { ClientConfig } from '../../../src/offload/client.js'
import { DEFAULT_SCHEDULER_CONFIG } from '../../../src/offload/scheduler.js'
import type { Candidate } from '../../../src/offload/scheduler.js'
import type { ServedResult } from '../../../src/offload/types.js'
import type { TensorData } from '../../../src/model/types.js'
import type { AbortOptions } from '@libp2p/interface'

const input: TensorData[] = [{ shape: [1, 2], dtype: 'float32', data: new Float32Array([1, 2]) }]

function result (tag: number): ServedResult {
  return { outputs: [{ shape: [1, 1], dtype: 'float32', data: new Float32Array([tag]) }], queueMs: 0, computeMs: 1, batchSize: 1 }
}

function cand (peerId: string, over: Partial<Candidate> = {}): Candidate {
  return { peerId, local: false, hasModel: true, inFlight: 0, queued: 0, capacity: 1, cpu: 0, training: false, ...over }
}

/** Resolves after `ms` of (fake) time unless the signal aborts first; `ms = Infinity` never answers. */
async function after (ms: number, value: ServedResult, signal?: AbortSignal): Promise<ServedResult> {
  return new Promise((resolve, reject) => {
    const t = Number.isFinite(ms) ? setTimeout(() => { resolve(value) }, ms) : undefined
    signal?.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason) }, { once: true })
  })
}

type Behaviour = (call: number, options: AbortOptions & { deadlineMs: number }) => Promise<ServedResult>

interface Harness {
  client: OffloadClient
  calls: string[]
  signals: Record<string, AbortSignal[]>
}

function harness (candidates: Candidate[], behaviours: Record<string, Behaviour>, config: Partial<ClientConfig> = {}, extra: { fetchLocal?: () => Promise<void>, now?: () => number } = {}): Harness {
  const calls: string[] = []
  const signals: Record<string, AbortSignal[]> = {}
  const count: Record<string, number> = {}
  const invoke = async (peerId: string, options: AbortOptions & { deadlineMs: number }): Promise<ServedResult> => {
    calls.push(peerId)
    count[peerId] = (count[peerId] ?? 0) + 1
    if (options.signal != null) (signals[peerId] ??= []).push(options.signal)
    return behaviours[peerId](count[peerId], options)
  }
  const client = new OffloadClient({
    selfId: 'self',
    local: async (_model, _inputs, options) => invoke('self', options),
    remote: async (peerId, _model, _inputs, options) => invoke(peerId, options),
    candidates: () => candidates,
    fetchLocal: extra.fetchLocal,
    now: extra.now ?? (() => Date.now()),
    random: () => 0.5,
    config: { hedging: false, ...config }
  })
  return { client, calls, signals }
}

const busySelf = cand('self', { local: true, inFlight: 4, capacity: 1 })

beforeEach(() => { vi.useFakeTimers() })
afterEach(() => { vi.useRealTimers() })

describe('OffloadClient attempt loop', () => {
  it('retries on another peer after PeerBusy', async () => {
    const { client, calls } = harness([cand('a'), cand('b', { inFlight: 1 })], {
      a: async () => { throw new PeerBusyError('queue full') },
      b: async () => result(2)
    })
    const r = await client.infer('m', input)
    expect(r.servedBy).toBe('b')
    expect(calls).toEqual(['a', 'b'])
    expect(r.attempts).toBe(2)
    expect(r.attemptLog.map(a => [a.peerId, a.outcome])).toEqual([['a', 'PeerBusyError'], ['b', 'ok']])
    expect(r.latencyMs.computeMs).toBe(1)
  })

  it('falls back to this node when the peer fails', async () => {
    const { client } = harness([busySelf, cand('a')], {
      a: async () => { throw new Error('connection reset') },
      self: async () => result(1)
    })
    const r = await client.infer('m', input)
    expect(r.servedBy).toBe('self')
    expect(r.attemptLog.map(a => a.outcome)).toEqual(['Error', 'ok'])
    expect(client.counters()).toMatchObject({ servedLocally: 1, servedRemotely: 0, failed: 0 })
  })

  it('treats ModelNotFound on a peer as a failure of that peer', async () => {
    const { client } = harness([cand('a'), cand('b', { inFlight: 1 })], {
      a: async () => { throw new ModelNotFoundError('stale gossip') },
      b: async () => result(2)
    })
    expect((await client.infer('m', input)).servedBy).toBe('b')
  })

  it('fails with AllPeersFailedError holding every attempt\'s error', async () => {
    const { client } = harness([cand('a'), cand('b', { inFlight: 1 })], {
      a: async () => { throw new PeerBusyError('a busy') },
      b: async () => { throw new Error('b down') }
    }, { maxAttempts: 2 })
    const err = await client.infer('m', input).catch(e => e)
    expect(err.name).toBe('AllPeersFailedError')
    expect(err).toBeInstanceOf(AggregateError)
    expect(err.errors.map((e: Error) => e.name)).toEqual(['PeerBusyError', 'Error'])
    expect(client.counters().failed).toBe(1)
  })

  it('waits for a backoff to expire when it ends before the deadline', async () => {
    const { client, calls } = harness([cand('a')], {
      a: async (n) => { if (n === 1) throw new PeerBusyError('busy'); return result(1) }
    })
    const pending = client.infer('m', input, { deadlineMs: 1000 })
    await vi.advanceTimersByTimeAsync(100)
    const r = await pending
    expect(r.servedBy).toBe('a')
    expect(calls).toEqual(['a', 'a'])
  })

  it('gives up at once when every backoff outlasts the deadline', async () => {
    const { client } = harness([cand('a')], { a: async () => { throw new Error('down') } })
    const err = await client.infer('m', input, { deadlineMs: 100 }).catch(e => e)
    expect(err.name).toBe('AllPeersFailedError')
    expect(err.errors).toHaveLength(1)
  })

  it('ends with DeadlineExceededError no later than the deadline and aborts the attempt', async () => {
    const { client, signals } = harness([cand('a')], { a: async (_n, o) => after(Infinity, result(1), o.signal) })
    const started = Date.now()
    let endedAt = -1
    const pending = client.infer('m', input, { deadlineMs: 500 }).catch(e => { endedAt = Date.now(); return e })
    await vi.advanceTimersByTimeAsync(500)
    const err = await pending
    expect(err.name).toBe('DeadlineExceededError')
    expect(endedAt - started).toBeLessThanOrEqual(500)
    expect(signals.a[0].aborted).toBe(true)
  })

  it('passes the remaining deadline to the invoker', async () => {
    let seen = 0
    const { client } = harness([cand('a')], { a: async (_n, o) => { seen = o.deadlineMs; return result(1) } })
    await client.infer('m', input, { deadlineMs: 750 })
    expect(seen).toBe(750)
  })

  it('passes whole milliseconds, rounded down, with a fractional clock', async () => {
    let seen = 0
    let t = 0.25
    const { client } = harness([cand('a')], { a: async (_n, o) => { seen = o.deadlineMs; return result(1) } }, {}, { now: () => (t += 0.3) })
    await client.infer('m', input, { deadlineMs: 750 })
    // The clock moves 0.3 ms per read, so the attempt sees 750 minus a few reads, rounded down.
    expect(Number.isInteger(seen)).toBe(true)
    expect(seen).toBeGreaterThanOrEqual(747)
    expect(seen).toBeLessThan(750)
  })

  it('ends with AbortError when the caller aborts', async () => {
    const { client } = harness([cand('a')], { a: async (_n, o) => after(Infinity, result(1), o.signal) })
    const controller = new AbortController()
    const pending = client.infer('m', input, { signal: controller.signal }).catch(e => e)
    controller.abort()
    expect((await pending).name).toBe('AbortError')
  })

  it('fails at once with InvalidTensorError (no other node can do better)', async () => {
    const { client, calls } = harness([cand('a'), cand('b', { inFlight: 1 })], {
      a: async () => { throw new InvalidTensorError('shape') },
      b: async () => result(2)
    })
    expect((await client.infer('m', input).catch(e => e)).name).toBe('InvalidTensorError')
    expect(calls).toEqual(['a'])
  })

  it('fails with ModelNotFoundError when no node holds the model', async () => {
    const { client } = harness([], {})
    expect((await client.infer('m', input).catch(e => e)).name).toBe('ModelNotFoundError')
  })

  it('fetches the model before running it here when this node lacks it', async () => {
    const fetchLocal = vi.fn(async () => {})
    const { client } = harness([cand('self', { local: true, hasModel: false })], { self: async () => result(1) }, {}, { fetchLocal })
    const r = await client.infer('m', input, { prefer: 'local' })
    expect(r.servedBy).toBe('self')
    expect(fetchLocal).toHaveBeenCalledTimes(1)
  })
})

describe('OffloadClient late binding', () => {
  it('parks a burst in the client and places each request on the node that frees a slot', async () => {
    const running: Record<string, number> = { self: 0, a: 0 }
    const most: Record<string, number> = { self: 0, a: 0 }
    const serve = (peer: string, ms: number): Behaviour => async () => {
      running[peer]++
      most[peer] = Math.max(most[peer], running[peer])
      try { return await after(ms, result(1)) } finally { running[peer]-- }
    }
    // Live counters stay at zero here: only the client's own outstanding attempts show the load.
    const { client, calls } = harness([cand('self', { local: true }), cand('a')], { self: serve('self', 10), a: serve('a', 10) })
    const burst = Promise.all(Array.from({ length: 12 }, async () => await client.infer('m', input, { deadlineMs: 10_000 })))
    await vi.runAllTimersAsync()
    const results = await burst
    expect(results).toHaveLength(12)
    // Two per slot here, one more at the peer (its next request is on the wire).
    expect(most.self).toBeLessThanOrEqual(2)
    expect(most.a).toBeLessThanOrEqual(3)
    expect(calls.filter(c => c === 'a').length).toBeGreaterThanOrEqual(4)
    expect(calls.filter(c => c === 'self').length).toBeGreaterThanOrEqual(4)
  })

  it('fills every node to its depth at once: a request whose chosen node is full goes to one with room', async () => {
    const slow: Behaviour = async () => await after(10, result(1))
    // This node answered fast once and the peer has only the (high) prior: this node stays the cheapest choice.
    const { client, calls } = harness([cand('self', { local: true }), cand('a')], { self: slow, a: slow }, { scheduler: { ...DEFAULT_SCHEDULER_CONFIG, priorLatencyMs: 1000 } })
    const warm = client.infer('m', input, { prefer: 'local' })
    await vi.advanceTimersByTimeAsync(10)
    await warm
    calls.length = 0
    const burst = Promise.all(Array.from({ length: 12 }, async () => await client.infer('m', input, { deadlineMs: 10_000 })))
    await vi.advanceTimersByTimeAsync(0)
    // Two here, three at the peer, before anything has answered; the rest wait parked.
    expect(calls.filter(c => c === 'self')).toHaveLength(2)
    expect(calls.filter(c => c === 'a')).toHaveLength(3)
    await vi.runAllTimersAsync()
    expect(await burst).toHaveLength(12)
  })

  it('does not park when turned off or with a single candidate', async () => {
    const slow: Behaviour = async () => await after(10, result(1))
    const off = harness([cand('self', { local: true }), cand('a')], { self: slow, a: slow }, { parkLoadPerSlot: 0 })
    const burst = Promise.all(Array.from({ length: 6 }, async () => await off.client.infer('m', input, { deadlineMs: 10_000 })))
    await vi.advanceTimersByTimeAsync(0)
    expect(off.calls).toHaveLength(6)
    await vi.runAllTimersAsync()
    await burst
    const one = harness([cand('a')], { a: slow })
    const only = Promise.all(Array.from({ length: 4 }, async () => await one.client.infer('m', input, { deadlineMs: 10_000 })))
    await vi.advanceTimersByTimeAsync(0)
    expect(one.calls).toHaveLength(4)
    await vi.runAllTimersAsync()
    await only
  })
})

describe('OffloadClient hedging', () => {
  it('hedges a slow attempt on another peer; the first answer wins and the loser is aborted', async () => {
    const { client, signals } = harness([cand('a'), cand('b', { inFlight: 1 })], {
      a: async (n, o) => after(n === 1 ? 10 : Infinity, result(1), o.signal),
      b: async (_n, o) => after(5, result(2), o.signal)
    }, { hedging: true, hedgeMinSamples: 1, hedgeBudget: { ratio: 1, burst: 1 } })
    const warm = client.infer('m', input)
    await vi.advanceTimersByTimeAsync(10)
    expect((await warm).servedBy).toBe('a')

    const pending = client.infer('m', input)
    await vi.advanceTimersByTimeAsync(10 + 5)
    const r = await pending
    expect(r.servedBy).toBe('b')
    expect(r.attemptLog).toMatchObject([{ peerId: 'a', outcome: 'AbortError' }, { peerId: 'b', outcome: 'ok', hedge: true }])
    expect(signals.a[1].aborted).toBe(true)
    expect(client.counters().hedges).toBe(1)
  })

  it('never hedges a prefer: remote request onto this node', async () => {
    const { client, calls } = harness([cand('self', { local: true }), cand('a')], {
      self: async (_n, o) => after(1, result(0), o.signal),
      a: async (n, o) => after(n === 1 ? 10 : 40, result(1), o.signal)
    }, { hedging: true, hedgeMinSamples: 1, hedgeBudget: { ratio: 1, burst: 1 } })
    const warm = client.infer('m', input, { prefer: 'remote' })
    await vi.advanceTimersByTimeAsync(10)
    expect((await warm).servedBy).toBe('a')
    const slow = client.infer('m', input, { prefer: 'remote' })
    await vi.advanceTimersByTimeAsync(40)
    const r = await slow
    expect(r.servedBy).toBe('a')
    expect(r.attemptLog.some(a => a.hedge === true)).toBe(false)
    expect(calls).not.toContain('self')
  })

  it('keeps hedges within 5 % of requests over many requests', async () => {
    let seed = 7
    const random = (): number => { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
    // 30 % of attempts are slow: far more would be hedged without a budget.
    const slowOrFast: Behaviour = async (_n, o) => after(random() < 0.3 ? 1000 : 1 + Math.floor(random() * 20), result(1), o.signal)
    const { client } = harness([cand('a'), cand('b'), cand('c')], { a: slowOrFast, b: slowOrFast, c: slowOrFast }, { hedging: true })
    const requests = 400
    let hedgedRequests = 0
    for (let i = 0; i < requests; i++) {
      const pending = client.infer('m', input)
      await vi.advanceTimersByTimeAsync(2100)
      const r = await pending
      if (r.attemptLog.some(a => a.hedge === true)) hedgedRequests++
    }
    expect(client.counters().hedges).toBe(hedgedRequests)
    expect(hedgedRequests).toBeGreaterThan(0)
    expect(hedgedRequests).toBeLessThanOrEqual(Math.floor(requests * 0.05))
  })
})

describe('late binding decisions', () => {
  const state = (over: Partial<LateBindingState> = {}): LateBindingState => ({
    prefer: 'auto', attempts: 0, candidates: [cand('self', { local: true }), cand('a')], perSlot: 2, outstanding: new Map(), ...over
  })

  it('parks only first attempts of auto requests with a choice, when the chosen node is saturated', () => {
    // A peer is saturated at perSlot + 1 (one request on the wire), this node at perSlot.
    const full = cand('a', { inFlight: 1, queued: 2 })
    expect(shouldPark(state(), full)).toBe(true)
    expect(shouldPark(state(), cand('a', { inFlight: 1, queued: 1 }))).toBe(false)
    expect(shouldPark(state(), cand('self', { local: true, inFlight: 1, queued: 1 }))).toBe(true)
    expect(shouldPark(state({ prefer: 'remote' }), full)).toBe(false)
    expect(shouldPark(state({ attempts: 1 }), full)).toBe(false)
    expect(shouldPark(state({ perSlot: 0 }), full)).toBe(false)
    expect(shouldPark(state({ candidates: [full] }), full)).toBe(false)
  })

  it('a peer gets as many extra requests as its round trip covers of its service time, within bounds', () => {
    expect(pipelineExtra(28, 5)).toBe(1)
    expect(pipelineExtra(28, 40)).toBe(2)
    expect(pipelineExtra(0.06, 0.7)).toBe(3)
    expect(pipelineExtra(0, 10)).toBe(1)
    const depths = new PipelineDepths(1)
    depths.observe('a', 100, 10, 30)
    expect(depths.extras().get('a')).toBe(2)
    expect(shouldPark(state({ extra: depths.extras() }), cand('a', { inFlight: 1, queued: 2 }))).toBe(false)
    expect(shouldPark(state({ extra: depths.extras() }), cand('a', { inFlight: 1, queued: 3 }))).toBe(true)
    depths.forget('a')
    expect(depths.extras().size).toBe(0)
  })

  it('never holds more requests at a peer than its budget of request bytes in flight takes', () => {
    expect(requestsWithinBudget(602_368, 4 * 1024 * 1024)).toBe(6)
    expect(requestsWithinBudget(8_000_000, 4 * 1024 * 1024)).toBe(1)
    expect(requestsWithinBudget(0, 4 * 1024 * 1024)).toBe(Infinity)
    // Depth allows 18 + 1 requests per slot, the budget 6: the peer is full at 6 of this node's requests.
    const peer = cand('a', { inFlight: 1, queued: 0 })
    const s = (mine: number): LateBindingState => state({ perSlot: 18, maxPerPeer: 6, outstanding: new Map([['a', mine]]) })
    expect(shouldPark(s(5), peer)).toBe(false)
    expect(shouldPark(s(6), peer)).toBe(true)
    expect(withRoom(s(6)).map(c => c.peerId)).toEqual(['self'])
    // This node's own queue is not bounded by a peer's budget.
    expect(shouldPark(s(6), cand('self', { local: true, inFlight: 1, queued: 6 }))).toBe(false)
  })

  it('finds the holders with room when the chosen node is full', () => {
    const s = state({ candidates: [cand('self', { local: true, inFlight: 1, queued: 1 }), cand('a', { inFlight: 1 }), cand('b', { hasModel: false })] })
    expect(withRoom(s).map(c => c.peerId)).toEqual(['a'])
    expect(withRoom(state({ candidates: [cand('self', { local: true, inFlight: 2 }), cand('a', { inFlight: 1, queued: 2 })] }))).toEqual([])
  })

  it('a freed slot pulls a parked request only to a usable holder with room', () => {
    const s = state({ outstanding: new Map([['a', 1]]) })
    expect(pullCandidate(s, 'a', new Set(), new Set())?.peerId).toBe('a')
    expect(pullCandidate(s, 'a', new Set(['a']), new Set())).toBeUndefined()
    expect(pullCandidate(s, 'a', new Set(), new Set(['a']))).toBeUndefined()
    expect(pullCandidate(state({ outstanding: new Map([['a', 3]]) }), 'a', new Set(), new Set())).toBeUndefined()
    expect(pullCandidate(state({ candidates: [cand('a', { hasModel: false })] }), 'a', new Set(), new Set())).toBeUndefined()
    expect(pullCandidate(s, 'gone', new Set(), new Set())).toBeUndefined()
  })
})
