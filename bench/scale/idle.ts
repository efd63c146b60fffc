/**
 * Phase 2, idle CPU per node. Two clusters of real node processes run at the
 * same time on their own loopback addresses: a seed with `IDLE.small` edges
 * and a seed with `IDLE.large` edges (no mDNS: each joins through its seed).
 * When every edge sees every other node, and after a settling time, each
 * edge's CPU time (user + system, from /proc/<pid>/stat) is read at the start
 * and end of every window; a window's figure is the mean over the cluster's
 * edges of CPU time / wall time (1.0 = one core). Both clusters are measured
 * over the same windows, so other work on the machine affects both alike.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { addressOn, loopbackAddress, startNodeProcess } from '../../src/cli/cluster.js'
import { median, round3 } from '../shared/stats.js'
import { IDLE } from './constants.js'
import type { NodeProcess } from '../../src/cli/cluster.js'

export interface IdleResult {
  /** Mean CPU per edge (fraction of one core), median window, per cluster size. */
  cpuPerEdge: Record<string, number>
  /** Every window's figure, per cluster size. */
  windows: Record<string, number[]>
  /** Open connections per edge (mean), per cluster size: above the peer count means duplicates. */
  connectionsPerEdge: Record<string, number>
  /** cpuPerEdge[large] / cpuPerEdge[small]. */
  ratio: number
  settings: typeof IDLE
}

/** Linux clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on every common kernel). */
const USER_HZ = 100
/** First loopback host index of this phase (away from the tests' and the offload benchmark's hosts). */
const HOST_OFFSET = 180

async function cpuSeconds (pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ
}

interface Cluster { edges: NodeProcess[], all: NodeProcess[], dirs: string[] }

/** Start a seed and `edges` edges into `cluster` (so that a failed start still leaves them to stop). */
async function startCluster (cluster: Cluster, edges: number, hostBase: number): Promise<void> {
  const common = async (i: number): Promise<string[]> => {
    const dir = await mkdtemp(join(tmpdir(), 'edge-mesh-idle-'))
    cluster.dirs.push(dir)
    return ['--preset', IDLE.preset, '--api-port', '0', '--no-mdns', '--listen', `/ip4/${loopbackAddress(hostBase + i)}/tcp/0`, '--data-dir', dir]
  }
  const seed = await startNodeProcess({ command: 'seed', args: [...await common(0), '--name', `seed-${edges}`], readyTimeoutMs: IDLE.readyTimeoutMs })
  cluster.all.push(seed)
  const bootstrap = addressOn(seed, loopbackAddress(hostBase))
  for (let i = 1; i <= edges; i++) {
    const edge = await startNodeProcess({ args: [...await common(i), '--name', `edge-${edges}-${i}`, '--bootstrap', bootstrap], readyTimeoutMs: IDLE.readyTimeoutMs })
    cluster.all.push(edge)
    cluster.edges.push(edge)
  }
}

/** `GET /status` of a node; undefined when it does not answer in time (a loaded machine). */
async function status (node: NodeProcess): Promise<any> {
  try {
    const res = await fetch(`${node.apiUrl}/status`, { signal: AbortSignal.timeout(15_000) })
    return await res.json()
  } catch {
    return undefined
  }
}

/** Wait until every edge knows every other node of its cluster (by connection or gossip). */
async function waitForMesh (cluster: Cluster): Promise<void> {
  const deadline = Date.now() + IDLE.readyTimeoutMs
  const want = cluster.all.length - 1
  while (Date.now() < deadline) {
    const known = await Promise.all(cluster.edges.map(async e => (await status(e))?.peers.length as number ?? 0))
    if (known.every(n => n >= want)) return
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  throw new Error(`cluster of ${cluster.edges.length} edges did not see every node within ${IDLE.readyTimeoutMs} ms`)
}

async function meanConnections (cluster: Cluster): Promise<number> {
  const counts = (await Promise.all(cluster.edges.map(async e => (await status(e))?.connections as number | undefined))).filter(n => n != null)
  return round3(counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length))
}

async function stopCluster (cluster: Cluster): Promise<void> {
  await Promise.all(cluster.all.map(async n => await n.stop(5000)))
  await Promise.all(cluster.dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
}

export async function measureIdle (progress: (line: string) => void): Promise<IdleResult> {
  const sizes = [IDLE.small, IDLE.large]
  const clusters: Cluster[] = []
  try {
    // The two clusters start side by side (start-up is not measured); within one, edges join one after the other.
    progress(`idle: starting a seed and ${sizes.join(' edges, and a seed and ')} edges`)
    await Promise.all(sizes.map(async (size, i) => {
      const cluster: Cluster = { edges: [], all: [], dirs: [] }
      clusters[i] = cluster
      await startCluster(cluster, size, HOST_OFFSET + i * 20)
    }))
    for (const c of clusters) await waitForMesh(c)
    progress(`idle: meshes formed; settling ${IDLE.settleMs} ms`)
    await new Promise(resolve => setTimeout(resolve, IDLE.settleMs))
    const windows: number[][] = sizes.map(() => [])
    for (let w = 0; w < IDLE.windows; w++) {
      const before = await Promise.all(clusters.map(async c => await Promise.all(c.edges.map(async e => await cpuSeconds(e.child.pid!)))))
      const startedAt = performance.now()
      await new Promise(resolve => setTimeout(resolve, IDLE.windowMs))
      const after = await Promise.all(clusters.map(async c => await Promise.all(c.edges.map(async e => await cpuSeconds(e.child.pid!)))))
      const wallS = (performance.now() - startedAt) / 1000
      clusters.forEach((c, i) => {
        const used = after[i].reduce((sum, s, k) => sum + s - before[i][k], 0)
        windows[i].push(round3(used / c.edges.length / wallS))
      })
      progress(`idle: window ${w + 1}/${IDLE.windows}: ${sizes.map((s, i) => `${s} edges ${windows[i][w]} core/edge`).join(', ')}`)
    }
    const connections = await Promise.all(clusters.map(meanConnections))
    const cpu = windows.map(median)
    return {
      cpuPerEdge: Object.fromEntries(sizes.map((s, i) => [String(s), round3(cpu[i])])),
      windows: Object.fromEntries(sizes.map((s, i) => [String(s), windows[i]])),
      connectionsPerEdge: Object.fromEntries(sizes.map((s, i) => [String(s), connections[i]])),
      ratio: round3(cpu[1] / cpu[0]),
      settings: IDLE
    }
  } finally {
    await Promise.all(clusters.map(stopCluster))
  }
}
