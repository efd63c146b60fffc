import { describe, expect, it } from 'vitest'
import { createModelEnsurer } from '../../../src/model-transfer/ensure.js'
import type { FetchModel } from '../../../src/model-transfer/ensure.js'

function deferred (): { promise: Promise<void>, resolve: () => void, reject: (e: Error) => void } {
  let resolve!: () => void
  let reject!: (e: Error) => void
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

function setup (sources: string[] = ['p1'], maxConcurrent = 2): { loaded: Set<string>, calls: Array<[string, string[]]>, gate: ReturnType<typeof deferred>, ensure: ReturnType<typeof createModelEnsurer> } {
  const loaded = new Set<string>()
  const calls: Array<[string, string[]]> = []
  const gate = deferred()
  const fetch: FetchModel = async (modelId, peers) => {
    calls.push([modelId, peers])
    await gate.promise
    loaded.add(modelId)
  }
  const ensure = createModelEnsurer({ models: { has: (id) => loaded.has(id) }, sources: () => sources, fetch, timeoutMs: 60_000, maxConcurrent })
  return { loaded, calls, gate, ensure }
}

describe('model ensurer', () => {
  it('does nothing when the model is loaded', async () => {
    const { loaded, calls, ensure } = setup()
    loaded.add('m')
    await ensure('m')
    expect(calls).toHaveLength(0)
  })

  it('fetches once for concurrent requests from the announcing peers', async () => {
    const { calls, gate, ensure } = setup(['p1', 'p2'])
    const all = Promise.all([ensure('m'), ensure('m'), ensure('m')])
    gate.resolve()
    await all
    expect(calls).toEqual([['m', ['p1', 'p2']]])
  })

  it('fails with ModelNotFoundError when no peer announces the model', async () => {
    const { ensure } = setup([])
    expect((await ensure('m').catch(e => e)).name).toBe('ModelNotFoundError')
  })

  it('lets a waiter give up without cancelling the shared transfer', async () => {
    const { loaded, gate, ensure } = setup()
    const controller = new AbortController()
    const first = ensure('m', { signal: controller.signal }).catch(e => e)
    const second = ensure('m')
    controller.abort()
    expect((await first).name).toBe('AbortError')
    gate.resolve()
    await second
    expect(loaded.has('m')).toBe(true)
  })

  it('refuses one model too many with PeerBusyError', async () => {
    const { gate, ensure } = setup(['p1'], 1)
    const first = ensure('a')
    expect((await ensure('b').catch(e => e)).name).toBe('PeerBusyError')
    gate.resolve()
    await first
  })
})
