/** The scheduler's load view: fresher observations override gossip, own requests are counted once, old figures fade. */
import { describe, expect, it } from 'vitest'
import { fadeStale, LoadEstimator, observedLoad, othersLoad, ownAt } from '../../../src/offload/load-estimate.js'
import type { PeerLoad } from '../../../src/gossip/types.js'

function peer (peerId: string, inFlight: number, queued: number, receivedAt: number, capacity = 1): PeerLoad {
  return {
    peerId,
    receivedAt,
    report: { seq: 1, timestamp: receivedAt, cpu: 0, memFree: 0, inFlight, queued, capacity, backend: 'cpu', models: ['m'], training: false, canTrain: false, role: 'edge', name: '', addrs: [] }
  }
}

const work = (p: PeerLoad): number => p.report.inFlight + p.report.queued

describe('load estimate', () => {
  it('a newer observation overrides an older gossiped report; an older one does not', () => {
    const gossip = peer('a', 1, 4, 100)
    expect(observedLoad(gossip, { outstanding: 0, capacity: 1, atMs: 200 })).toEqual({ outstanding: 0, capacity: 1, atMs: 200 })
    expect(observedLoad(gossip, { outstanding: 0, capacity: 1, atMs: 50 })).toEqual({ outstanding: 5, capacity: 1, atMs: 100 })
  })

  it('counts own requests outstanding at a time: sent by then, not answered by then', () => {
    const own = [{ sentAt: 0, doneAt: 10 }, { sentAt: 5 }, { sentAt: 20 }]
    expect(ownAt(own, 7)).toBe(2)
    expect(ownAt(own, 15)).toBe(1)
    expect(ownAt(own, 25)).toBe(2)
    expect(ownAt(own, 15, 10)).toBe(2)
  })

  it('leaves the other clients\' share of the figure: this node\'s requests of that time are taken out', () => {
    const own = [{ sentAt: 50 }, { sentAt: 60, doneAt: 90 }, { sentAt: 150 }]
    // An observation is dated exactly: only the request outstanding at 100 was in it.
    const observed = othersLoad(peer('a', 0, 0, 10), { outstanding: 3, capacity: 1, atMs: 100 }, own)
    expect(work(observed)).toBe(2)
    expect(observed.report.inFlight).toBe(1)
    // A gossiped figure is dated by its arrival: the request answered at 90 may still be in it.
    expect(work(othersLoad(peer('a', 1, 2, 100), undefined, own))).toBe(1)
  })

  it('an estimator observes answered loads and tracks its own requests', () => {
    const e = new LoadEstimator({ fadeMs: 0 })
    const done = e.sent('a', 100)
    expect(work(e.estimate([peer('a', 1, 0, 120)])[0])).toBe(0)
    done(130)
    e.observeLoad('a', { outstanding: 3, capacity: 1 }, 140)
    e.observeLoad('a', { outstanding: 9, capacity: 1 }, 135)
    expect(work(e.estimate([peer('a', 1, 0, 120)])[0])).toBe(3)
  })

  it('bounds what it remembers per peer', () => {
    const e = new LoadEstimator({ maxHistory: 2, historyMs: 1000, fadeMs: 0 })
    for (let t = 0; t < 5; t++) e.sent('a', t)(t + 0.5)
    // Only the two latest finished requests are remembered: a figure from t=0.2 includes none it knows of.
    expect(work(e.estimate([peer('a', 1, 0, 0.2)])[0])).toBe(1)
  })

  it('fades an old figure toward the typical load of the peers seen lately', () => {
    const [fresh, stale] = fadeStale([peer('a', 1, 1, 1000), peer('b', 0, 0, 0)], 1000, 100)
    expect(work(fresh)).toBeCloseTo(2)
    expect(work(stale)).toBeGreaterThan(1.9)
  })
})
