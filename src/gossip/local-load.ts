/**
 * Where the node's own services record the work they are doing. Offload
 * reports in-flight and queued requests, federated training sets `training`.
 * Every change is dispatched as a `load:change` event, which the gossip
 * service uses to publish early when the change is large.
 */
import { serviceCapabilities } from '@libp2p/interface'
import { TypedEventEmitter } from 'main-event'
import { CAPABILITY } from '../capabilities.js'
import type { LocalLoad, LocalLoadEvents, LocalWork } from './types.js'

export class LocalLoadRegister extends TypedEventEmitter<LocalLoadEvents> implements LocalLoad {
  readonly [serviceCapabilities]: string[] = [CAPABILITY.localLoad]
  private work: LocalWork

  constructor (initial: Partial<LocalWork> = {}) {
    super()
    this.work = { inFlight: 0, queued: 0, capacity: 1, training: false, canTrain: false, models: [], ...initial }
  }

  update (change: Partial<LocalWork>): void {
    const next = { ...this.work, ...change }
    const same = next.inFlight === this.work.inFlight && next.queued === this.work.queued &&
      next.capacity === this.work.capacity && next.training === this.work.training && next.canTrain === this.work.canTrain &&
      next.models.join() === this.work.models.join()
    this.work = next
    if (!same) this.safeDispatchEvent('load:change', { detail: { ...next } })
  }

  snapshot (): LocalWork {
    return { ...this.work, models: [...this.work.models] }
  }
}
