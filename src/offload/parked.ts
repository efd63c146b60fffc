/** The waiting room of the offload client's late binding (see `client.ts`). */

/**
 * The parked requests of late binding, oldest first. A freed slot wakes the
 * oldest; while any request is parked, one timer also wakes the oldest every
 * `recheckMs` (peers' load changes arrive by gossip, not as attempt endings).
 * A woken request is out of the queue until it parks again.
 */
export class ParkedQueue {
  private readonly queue: Array<(freed?: string) => void> = []
  private timer?: ReturnType<typeof setTimeout>

  constructor (private readonly recheckMs: number) {}

  park (wake: (freed?: string) => void, front: boolean): void {
    if (this.queue.includes(wake)) return
    if (front) this.queue.unshift(wake)
    else this.queue.push(wake)
    this.arm()
  }

  remove (wake: (freed?: string) => void): void {
    const i = this.queue.indexOf(wake)
    if (i !== -1) this.queue.splice(i, 1)
    if (this.queue.length === 0) { clearTimeout(this.timer); this.timer = undefined }
  }

  wakeOldest (freed?: string): void {
    const first = this.queue.shift()
    if (this.queue.length === 0) { clearTimeout(this.timer); this.timer = undefined }
    first?.(freed)
  }

  private arm (): void {
    if (this.timer != null) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.wakeOldest()
      if (this.queue.length > 0) this.arm()
    }, this.recheckMs)
  }
}
