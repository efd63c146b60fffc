/**
 * Arrays reused from one served request frame to the next.
 *
 * Why: a served image request makes two large arrays that live only until
 * the request is answered. They are the frame's bytes, joined from the
 * transport's chunks, and its byte tensors widened to float32 or int32 (602
 * KB for a MobileNetV2 image). Both are ArrayBuffers outside V8's heap. Made
 * anew for every request, their memory drove a full mark-compact every ~6
 * requests on a serving node: 20–33 per 200 MobileNetV2 requests, against
 * 3–7 with this pool. Each one cost ~8 ms of pause and ~50 ms of concurrent
 * marking on the process's one core.
 *
 * How: `take` hands out an array of the exact length asked, reused when one
 * is free. `give` returns a frame's arrays once its last request has been
 * answered. Free arrays are kept up to `maxBytes` in all; beyond that a
 * returned array is left to the garbage collector. A borrowed array is never
 * handed out twice. The only reader of an array after `give` is a prediction
 * whose request was dropped (deadline or cancel) while it ran; its answer is
 * discarded, and predictions never write to their inputs.
 */

/** A typed array kind the pool holds. */
export type PooledArray = Uint8Array | Float32Array | Int32Array

/** The constructor of a pooled array kind. */
export interface Kind<T extends PooledArray> {
  new (length: number): T
  readonly name: string
}

/** What a pool did so far, and the free bytes it holds. */
export interface PooledArrayStats {
  /** Arrays handed out. */
  taken: number
  /** ... of them reused rather than made. */
  reused: number
  /** Arrays given back and kept for reuse. */
  kept: number
  /** Arrays given back and left to the garbage collector (the pool was full). */
  dropped: number
  heldBytes: number
}

/** Free arrays kept by default, bytes: a few frames of a peer's 4 MiB budget, widened 4x. */
export const DEFAULT_ARRAY_POOL_BYTES = 16 * 1024 * 1024

/** Arrays shorter than this are not worth pooling (V8 makes them cheaply), elements. */
const MIN_POOLED_LENGTH = 4096

export class ArrayPool {
  private readonly free = new Map<string, PooledArray[]>()
  private freeBytes = 0
  /** Arrays handed out, reused and returned (for tests and status). */
  readonly counters: Omit<PooledArrayStats, 'heldBytes'> = { taken: 0, reused: 0, kept: 0, dropped: 0 }

  constructor (private readonly maxBytes = DEFAULT_ARRAY_POOL_BYTES) {}

  /** An array of `kind` and `length` elements, contents unspecified (the caller overwrites it). */
  take<T extends PooledArray>(kind: Kind<T>, length: number): T {
    this.counters.taken++
    if (length < MIN_POOLED_LENGTH) return new kind(length)
    const list = this.free.get(keyOf(kind, length))
    const reused = list?.pop()
    if (reused == null) return new kind(length)
    this.counters.reused++
    this.freeBytes -= reused.byteLength
    return reused as T
  }

  /** Return arrays from `take` that nothing reads any more; each must be whole (not a view). */
  give (arrays: Iterable<PooledArray>): void {
    for (const array of arrays) {
      if (array.length < MIN_POOLED_LENGTH || array.byteOffset !== 0 || array.byteLength !== array.buffer.byteLength) continue
      if (this.freeBytes + array.byteLength > this.maxBytes) { this.counters.dropped++; continue }
      const key = keyOf(array.constructor as Kind<PooledArray>, array.length)
      const list = this.free.get(key) ?? []
      if (list.includes(array)) continue
      list.push(array)
      this.free.set(key, list)
      this.freeBytes += array.byteLength
      this.counters.kept++
    }
  }

  /** Bytes of free arrays held now. */
  get heldBytes (): number {
    return this.freeBytes
  }
}

/** The arrays one frame borrowed from a pool, given back together. */
export class FrameArrays {
  private borrowed: PooledArray[] = []

  constructor (private readonly pool: ArrayPool) {}

  take<T extends PooledArray>(kind: Kind<T>, length: number): T {
    const array = this.pool.take(kind, length)
    this.borrowed.push(array)
    return array
  }

  /** Give every borrowed array back; later calls do nothing. */
  release (): void {
    const arrays = this.borrowed
    this.borrowed = []
    this.pool.give(arrays)
  }
}

function keyOf (kind: Kind<PooledArray>, length: number): string {
  return `${kind.name}:${length}`
}
