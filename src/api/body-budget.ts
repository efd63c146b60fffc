/**
 * A bound on request-body bytes the control API holds at once. A JSON body
 * costs several times its size once parsed (eight concurrent 11 MiB
 * `POST /infer` bodies took a node from 340 to 1051 MB), so each request with
 * a body reserves its declared length (or the largest body allowed, when
 * chunked) before a byte is read, and gives it back when its response ends.
 * A request that does not fit is refused at once (503 ApiBusyError) instead
 * of queued: queued bodies would sit in socket buffers all the same.
 */

export class BodyBudget {
  private held = 0
  private refusedCount = 0

  constructor (private readonly capacity: number) {}

  /** Bytes reserved now. */
  get inFlight (): number {
    return this.held
  }

  /** Requests refused so far. */
  get refused (): number {
    return this.refusedCount
  }

  /** Reserve `bytes`; returns the release function, or undefined when they do not fit. Release is safe to call twice. */
  tryAcquire (bytes: number): (() => void) | undefined {
    const want = Math.max(0, Math.min(bytes, this.capacity))
    if (this.held + want > this.capacity) {
      this.refusedCount++
      return undefined
    }
    this.held += want
    let released = false
    return () => {
      if (released) return
      released = true
      this.held -= want
    }
  }
}
