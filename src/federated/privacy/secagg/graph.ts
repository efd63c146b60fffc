/**
 * SecAgg+ neighbourhoods (Bell et al., CCS 2020): instead of every pair of
 * clients agreeing on masks, each client pairs with k others in a random
 * Harary graph: the clients are shuffled onto a ring with a public seed and
 * each is joined to its k/2 nearest on either side. k = O(log n) keeps the
 * cost per client logarithmic; k = n - 1 is the complete graph of the
 * original protocol (Bonawitz et al., CCS 2017).
 */
import { createRng } from '../../rng.js'

/** The default degree: `2 * ceil(log2 n)`, at most n - 1. */
export function defaultDegree (n: number): number {
  return Math.min(n - 1, 2 * Math.ceil(Math.log2(Math.max(2, n))))
}

/** The neighbours of every client id (symmetric; a client is not its own neighbour). */
export function neighbourhoods (ids: readonly number[], degree: number, seed: number): Map<number, number[]> {
  const n = ids.length
  const k = Math.min(n - 1, Math.max(1, degree))
  const ring = createRng(seed).shuffle([...ids])
  const out = new Map<number, Set<number>>(ids.map((id) => [id, new Set<number>()]))
  const half = Math.ceil(k / 2)
  for (let i = 0; i < n; i++) {
    for (let j = 1; j <= half; j++) {
      const a = ring[i]
      const b = ring[(i + j) % n]
      if (a === b) continue
      out.get(a)?.add(b)
      out.get(b)?.add(a)
    }
  }
  return new Map([...out].map(([id, set]) => [id, [...set].sort((x, y) => x - y)]))
}

/** The default Shamir threshold for a neighbourhood of `degree`: a strict majority of the shares. */
export function defaultThreshold (degree: number): number {
  return Math.floor(degree / 2) + 1
}
