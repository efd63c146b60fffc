/**
 * Deadlines of the offload client, on a fake clock: a request ends with
 * DeadlineExceededError (listing its attempts) at or before its deadline and
 * never succeeds after it, whatever its attempts do.
 */
import { describe, expect, it } from 'vitest'
import { DeadlineExceededError } from '../../../src/errors.js'
import { OffloadClient } from '../../../src/offload/client.js'
import type { Candidate } from '../../../src/offload/scheduler.js'
import type { LocalInvoker, ServedResult } from '../../../src/offload/types.js'
import type { TensorData } from '../../../src/model/types.js'

const input: TensorData[] = [{ shape: [1, 1], dtype: 'float32', data: new Float32Array([1]) }]
const served: ServedResult = { outputs: input, queueMs: 0, computeMs: 1, batchSize: 1 }
const self: Candidate = { peerId: 'self', local: true, hasModel: true, inFlight: 0, queued: 0, capacity: 1, cpu: 0, training: false }

/** A client whose only candidate is this node, on a clock the local invoker moves. */
function clientWith (local: LocalInvoker, clock: { t: number }, candidates: Candidate[] = [self]): OffloadClient {
  return new OffloadClient({
    selfId: 'self',
    local,
    remote: async () => { throw new Error('no peers here') },
    candidates: () => candidates,
    now: () => clock.t,
    random: () => 0.5,
    config: { hedging: false }
  })
}

describe('OffloadClient deadlines', () => {
  it('an answer that arrives after the deadline is DeadlineExceededError, not a success', async () => {
    const clock = { t: 0 }
    // A synchronous run that blocks past the deadline: the timer could not fire first.
    const client = clientWith(async () => { clock.t += 10.6; return served }, clock)
    const err = await client.infer('m', input, { deadlineMs: 2 }).catch((e: Error) => e)
    expect(err).toBeInstanceOf(DeadlineExceededError)
    const attempts = (err as DeadlineExceededError).attempts ?? []
    expect(attempts.map(a => [a.peerId, a.outcome])).toEqual([['self', 'late']])
  })

  it('an attempt that fails at the deadline ends the request with DeadlineExceededError, not a retry loop', async () => {
    const clock = { t: 0 }
    let calls = 0
    const client = clientWith(async () => {
      calls++
      clock.t += 1
      throw new DeadlineExceededError('queued past its deadline')
    }, clock)
    const err = await client.infer('m', input, { deadlineMs: 1 }).catch((e: Error) => e)
    expect(err.name).toBe('DeadlineExceededError')
    expect(calls).toBe(1)
    expect((err as DeadlineExceededError).attempts?.map(a => a.outcome)).toEqual(['DeadlineExceededError'])
  })

  it('gives up before starting an attempt when less than a millisecond is left', async () => {
    const clock = { t: 0 }
    let calls = 0
    const client = clientWith(async () => { calls++; return served }, clock)
    const err = await client.infer('m', input, { deadlineMs: 0 }).catch((e: Error) => e)
    expect(err.name).toBe('DeadlineExceededError')
    expect(calls).toBe(0)
    expect((err as DeadlineExceededError).attempts).toEqual([])
  })

  it('an answer within the deadline is a success', async () => {
    const clock = { t: 0 }
    const client = clientWith(async () => { clock.t += 1; return served }, clock)
    const r = await client.infer('m', input, { deadlineMs: 2 })
    expect(r.servedBy).toBe('self')
  })

  it('AllPeersFailedError lists the attempts too', async () => {
    const clock = { t: 0 }
    const client = clientWith(async () => { throw new Error('broken engine') }, clock)
    const err = await client.infer('m', input, { deadlineMs: 1000 }).catch((e: Error) => e)
    expect(err.name).toBe('AllPeersFailedError')
    expect((err as DeadlineExceededError).attempts?.length).toBeGreaterThan(0)
  })
})
