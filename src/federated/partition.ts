/**
 * Partitions of a data set into K clients, as index lists (the caller builds
 * each client's Dataset with `subsetDataset`). All partitions are
 * deterministic for a given seed.
 *
 * - `iid`: shuffle, then K near-equal slices;
 * - `noniid`: McMahan et al.'s pathological split: sort by label, cut into
 *   2K shards, give each client 2 random shards (most clients see 2 digits);
 * - `dirichlet:<alpha>`: for every class, split its examples across clients
 *   with proportions drawn from Dir(alpha) (small alpha = strong skew).
 */
import { InvalidConfigError } from '../errors.js'
import { createRng, dirichlet } from './rng.js'
import type { Rng } from './rng.js'

/** A partition scheme name: `iid`, `noniid` or `dirichlet:<alpha>` (e.g. `dirichlet:0.5`). */
export type PartitionScheme = 'iid' | 'noniid' | `dirichlet:${string}`

/** Split example indices `0..labels.length-1` among `k` clients. */
export function partitionIndices (labels: Int32Array, k: number, scheme: PartitionScheme | string, seed: number): number[][] {
  if (!Number.isInteger(k) || k < 1) throw new InvalidConfigError(`client count must be an integer >= 1, got ${k}`)
  if (k > labels.length) throw new InvalidConfigError(`cannot split ${labels.length} examples among ${k} clients`)
  const rng = createRng(seed)
  if (scheme === 'iid') return iid(labels.length, k, rng)
  if (scheme === 'noniid') return shards(labels, k, rng)
  const m = /^dirichlet:(\d+(?:\.\d+)?(?:e-?\d+)?)$/.exec(scheme)
  if (m !== null) {
    const alpha = Number(m[1])
    if (!(alpha > 0)) throw new InvalidConfigError(`dirichlet alpha must be > 0, got ${m[1]}`)
    return dirichletSplit(labels, k, alpha, rng)
  }
  throw new InvalidConfigError(`unknown partition "${scheme}", expected iid, noniid or dirichlet:<alpha>`)
}

function range (n: number): number[] {
  return Array.from({ length: n }, (_, i) => i)
}

function iid (n: number, k: number, rng: Rng): number[][] {
  const order = rng.shuffle(range(n))
  return range(k).map((c) => order.slice(Math.floor(c * n / k), Math.floor((c + 1) * n / k)).sort((a, b) => a - b))
}

function shards (labels: Int32Array, k: number, rng: Rng): number[][] {
  const n = labels.length
  const shardCount = 2 * k
  if (shardCount > n) throw new InvalidConfigError(`noniid needs at least ${shardCount} examples for ${k} clients`)
  // Stable sort by label (ties keep index order) so the split is deterministic.
  const sorted = range(n).sort((a, b) => labels[a] - labels[b] || a - b)
  const shardIds = rng.shuffle(range(shardCount))
  return range(k).map((c) => {
    const out: number[] = []
    for (const s of [shardIds[2 * c], shardIds[2 * c + 1]]) {
      out.push(...sorted.slice(Math.floor(s * n / shardCount), Math.floor((s + 1) * n / shardCount)))
    }
    return out.sort((a, b) => a - b)
  })
}

function dirichletSplit (labels: Int32Array, k: number, alpha: number, rng: Rng): number[][] {
  const byClass = new Map<number, number[]>()
  labels.forEach((y, i) => {
    const list = byClass.get(y) ?? []
    list.push(i)
    byClass.set(y, list)
  })
  const clients: number[][] = range(k).map(() => [])
  for (const cls of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = rng.shuffle(byClass.get(cls) ?? [])
    const p = dirichlet(rng, alpha, k)
    let start = 0
    let cum = 0
    for (let c = 0; c < k; c++) {
      cum += p[c]
      const end = c === k - 1 ? idx.length : Math.round(cum * idx.length)
      for (let i = start; i < end; i++) clients[c].push(idx[i])
      start = Math.max(start, end)
    }
  }
  fillEmpty(clients)
  return clients.map((c) => c.sort((a, b) => a - b))
}

/** Give every empty client one example taken from the currently largest client. */
function fillEmpty (clients: number[][]): void {
  for (const client of clients) {
    if (client.length > 0) continue
    let largest = clients[0]
    for (const c of clients) if (c.length > largest.length) largest = c
    const moved = largest.pop()
    if (moved !== undefined) client.push(moved)
  }
}

/** Label histogram of each client's examples, for reports and tests. */
export function labelCounts (labels: Int32Array, parts: readonly number[][], numClasses: number): number[][] {
  return parts.map((idx) => {
    const counts = new Array<number>(numClasses).fill(0)
    for (const i of idx) counts[labels[i]]++
    return counts
  })
}
