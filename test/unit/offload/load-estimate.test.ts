/** The scheduler's load view: fresher observations override gossip, own requests are counted once, old figures fade. */
import { describe, expect, it } from 'vitest'
import { fadeStale, LoadEstimator, observedLoad, othersLoad, OwnLedger, ownAt } from '../../../src/offload/load-estimate.js'
import type { OwnRequest } from '../../../src/offload/load-estimate.js'
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

  it('a ledger counts what ownAt counts over the same requests', () => {
    // Requests sent in order, answered in any order (finished kept in answer order), seeded.
    let seed = 7
    const random = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 }
    const ledger = new OwnLedger()
    const all: OwnRequest[] = []
    const events: Array<{ at: number, request: OwnRequest }> = []
    for (let i = 0; i < 200; i++) {
      const request: OwnRequest = { sentAt: i * 10 }
      all.push(request)
      ledger.outstanding.add(request)
      if (random() < 0.9) events.push({ at: i * 10 + 1 + Math.floor(random() * 60), request })
    }
    for (const { at, request } of events.sort((x, y) => x.at - y.at)) {
      request.doneAt = at
      ledger.outstanding.delete(request)
      ledger.finished.push(request)
    }
    for (let t = 0; t < 2100; t += 37) {
      for (const windowMs of [0, 25]) expect(ledger.at(t, windowMs)).toBe(ownAt(all, t, windowMs))
    }
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
