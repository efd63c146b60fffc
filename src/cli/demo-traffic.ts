/**
 * Example inference traffic for `edge-mesh demo`: bursts of concurrent
 * requests for the example model sent to one node (node-1, which the demo
 * also makes a slower device) with `prefer: auto`, more at once than its
 * slots hold, so its scheduler hands part of each burst to idle peers; every
 * few seconds one line says where the requests were served.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { shortId } from './output.js'
import { apiHeaders } from './cluster.js'
import type { NodeProcess } from './cluster.js'

/** Concurrent requests per burst: more than a node's default 4 slots, so a slower node must hand some to peers. */
export const DEMO_BURST = 16

export interface DemoTrafficOptions {
  nodes: NodeProcess[]
  modelId: string
  /** Folder holding mnist-digit-3.json and mnist-digit-7.json. */
  inputsDir: string
  /** The node every burst is sent to (its index in `nodes`). @default 0 */
  target?: number
  /** Requests per burst. @default 16 (`DEMO_BURST`) */
  burst?: number
  /** Time between bursts, ms. @default 1000 */
  everyMs?: number
  /** Time between summary lines, ms. @default 5000 */
  reportEveryMs?: number
  print(line: string): void
}

async function infer (node: NodeProcess, body: unknown): Promise<{ servedBy?: string, ms: number, error?: string }> {
  const t = performance.now()
  try {
    const res = await fetch(`${node.apiUrl}/infer`, { method: 'POST', headers: { 'content-type': 'application/json', ...apiHeaders(node) }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) })
    const json: any = await res.json()
    return res.ok ? { servedBy: json.servedBy, ms: json.latencyMs.totalMs } : { ms: performance.now() - t, error: json?.error?.name ?? `HTTP ${res.status}` }
  } catch (err: any) {
    return { ms: performance.now() - t, error: err?.name ?? 'Error' }
  }
}

/** Start sending; returns a function that stops the traffic. */
export function startDemoTraffic (options: DemoTrafficOptions): () => void {
  const inputs = [3, 7].map(d => JSON.parse(readFileSync(join(options.inputsDir, `mnist-digit-${d}.json`), 'utf8')))
  const names = new Map(options.nodes.map((n, i) => [n.peerId, `node-${i + 1}`]))
  let served = new Map<string, number>()
  let latencies: number[] = []
  let errors = 0
  let stopped = false

  const target = options.nodes[options.target ?? 0]
  const targetName = names.get(target.peerId) ?? shortId(target.peerId)
  const burst = async (): Promise<void> => {
    const results = await Promise.all(Array.from({ length: options.burst ?? DEMO_BURST }, async (_, i) =>
      await infer(target, { model: options.modelId, inputs: [inputs[i % 2]], prefer: 'auto', deadlineMs: 5000 })))
    for (const r of results) {
      if (r.servedBy != null) served.set(r.servedBy, (served.get(r.servedBy) ?? 0) + 1)
      else errors++
      latencies.push(r.ms)
    }
  }
  const report = (): void => {
    const total = [...served.values()].reduce((a, b) => a + b, 0)
    if (total + errors === 0) return
    const sorted = [...latencies].sort((a, b) => a - b)
    const local = served.get(target.peerId) ?? 0
    const peers = [...served.entries()].filter(([id]) => id !== target.peerId).map(([id, n]) => `${names.get(id) ?? shortId(id)} ${n}`).sort()
    options.print(`traffic to ${targetName}: ${total} served, ${local} by ${targetName}, ${total - local} by idle peers${peers.length > 0 ? ` (${peers.join(', ')})` : ''}, ${errors} failed, p50 ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms`)
    served = new Map()
    latencies = []
    errors = 0
  }
  const burstTimer = setInterval(() => { if (!stopped) void burst() }, options.everyMs ?? 1000)
  const reportTimer = setInterval(report, options.reportEveryMs ?? 5000)
  return () => {
    stopped = true
    clearInterval(burstTimer)
    clearInterval(reportTimer)
  }
}
