/** The event queue of the scale simulation: a binary min-heap on time, FIFO among equal times. */

export interface SimEvent {
  at: number
  /** Insertion order, so events at the same time run in the order they were scheduled. */
  order: number
  run: () => void
}

export class EventQueue {
  private readonly heap: SimEvent[] = []
  private next = 0
  now = 0

  /** Run `run` at `now + delayMs`. */
  after (delayMs: number, run: () => void): void {
    this.push({ at: this.now + Math.max(0, delayMs), order: this.next++, run })
  }

  /** Run events in time order until the queue is empty or the next one is after `untilMs`. */
  runUntil (untilMs: number): void {
    while (this.heap.length > 0 && this.heap[0].at <= untilMs) {
      const event = this.pop()
      this.now = event.at
      event.run()
    }
    this.now = untilMs
  }

  private less (a: SimEvent, b: SimEvent): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order)
  }

  private push (event: SimEvent): void {
    const h = this.heap
    h.push(event)
    let i = h.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(h[i], h[parent])) break
      ;[h[i], h[parent]] = [h[parent], h[i]]
      i = parent
    }
  }

  private pop (): SimEvent {
    const h = this.heap
    const top = h[0]
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && this.less(h[l], h[m])) m = l
        if (r < h.length && this.less(h[r], h[m])) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m], h[i]]
        i = m
      }
    }
    return top
  }
}
