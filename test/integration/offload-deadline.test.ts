/**
 * Deadlines through the real HTTP API of a real node process: a request whose
 * deadline is shorter than the work ends with 504 and a typed
 * DeadlineExceededError listing its attempts; no request is answered 200
 * after its deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MNIST_MODEL_DIR, MNIST_MODEL_ID, TestCluster, inferVia, mnistDigit } from '../fixtures/index.js'
import type { NodeProcess } from '../fixtures/index.js'

describe('request deadlines over POST /infer', () => {
  const cluster = new TestCluster()
  let node: NodeProcess

  beforeAll(async () => {
    // Every request takes at least 50 ms of (emulated) service, far above the deadlines below.
    node = await cluster.start('deadline', ['--model', MNIST_MODEL_DIR, '--simulate-service-ms', '50'])
  })
  afterAll(async () => { await cluster.cleanup() })

  it('a deadline shorter than the work answers 504 DeadlineExceededError with the attempts, never 200', async () => {
    const input = await mnistDigit(7)
    for (const deadlineMs of [1, 2, 5]) {
      const res = await inferVia(node, { model: MNIST_MODEL_ID, inputs: [input], deadlineMs })
      expect(res.status).toBe(504)
      expect(res.body.error.name).toBe('DeadlineExceededError')
      expect(Array.isArray(res.body.error.attempts)).toBe(true)
      for (const attempt of res.body.error.attempts) {
        expect(typeof attempt.peerId).toBe('string')
        expect(typeof attempt.outcome).toBe('string')
      }
    }
  })

  it('a success is reported only within its deadline', async () => {
    const input = await mnistDigit(3)
    const res = await inferVia(node, { model: MNIST_MODEL_ID, inputs: [input], deadlineMs: 60_000 })
    expect(res.status).toBe(200)
    expect(res.body.latencyMs.totalMs).toBeLessThanOrEqual(60_000)
  })
})
