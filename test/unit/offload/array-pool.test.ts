/**
 * The array pool of served 1.1.0 frames: exact-length reuse, a bound on what
 * it keeps, no array handed out twice, and small arrays left to V8.
 */
import { describe, expect, it } from 'vitest'
import { ArrayPool, FrameArrays } from '../../../src/offload/array-pool.js'

describe('ArrayPool', () => {
  it('reuses a given-back array of the same kind and length, never one in use', () => {
    const pool = new ArrayPool(1024 * 1024)
    const a = pool.take(Float32Array, 10_000)
    const b = pool.take(Float32Array, 10_000)
    expect(b).not.toBe(a)
    pool.give([a])
    expect(pool.take(Int32Array, 10_000)).not.toBe(a)
    expect(pool.take(Float32Array, 10_001)).not.toBe(a)
    expect(pool.take(Float32Array, 10_000)).toBe(a)
    expect(pool.take(Float32Array, 10_000)).not.toBe(a)
    expect(pool.counters).toMatchObject({ reused: 1, kept: 1 })
  })

  it('keeps at most its byte bound, ignores views, small arrays and arrays given twice', () => {
    const pool = new ArrayPool(100_000)
    const arrays = [0, 1, 2].map(() => pool.take(Uint8Array, 40_000))
    pool.give(arrays)
    expect(pool.heldBytes).toBe(80_000)
    expect(pool.counters).toMatchObject({ kept: 2, dropped: 1 })
    pool.give([arrays[0]])
    expect(pool.heldBytes).toBe(80_000)
    pool.give([new Float32Array(20_000).subarray(5), new Uint8Array(100)])
    expect(pool.heldBytes).toBe(80_000)
    expect(pool.take(Uint8Array, 100)).toHaveLength(100)
  })

  it('gives a frame\'s borrowed arrays back once', () => {
    const pool = new ArrayPool()
    const frame = new FrameArrays(pool)
    const x = frame.take(Int32Array, 5000)
    frame.release()
    frame.release()
    expect(pool.heldBytes).toBe(20_000)
    expect(new FrameArrays(pool).take(Int32Array, 5000)).toBe(x)
    expect(pool.heldBytes).toBe(0)
  })
})
