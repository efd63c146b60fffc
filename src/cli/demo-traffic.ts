/**
 * Example inference traffic for `edge-mesh demo`: bursts of requests for the
 * example model sent to a random node of the cluster with `prefer: auto`, so
 * busy nodes hand work to idle ones; every few seconds one line says who
 * served what.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { shortId } from './output.js'
import { apiHeaders } from './cluster.js'
import type { NodeProcess } from './cluster.js'

export interface DemoTrafficOptions {
  nodes: NodeProcess[]
  modelId: string
  /** Folder holding mnist-digit-3.json and mnist-digit-7.json. */
  inputsDir: string
  /** Requests per burst. @default 12 */
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

  const burst = async (): Promise<void> => {
    const target = options.nodes[Math.floor(Math.random() * options.nodes.length)]
    const results = await Promise.all(Array.from({ length: options.burst ?? 12 }, async (_, i) =>
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
    const parts = [...served.entries()].map(([id, n]) => `${names.get(id) ?? shortId(id)} ${n}`).sort()
    options.print(`traffic: ${total} served (${parts.join(', ')}), ${errors} failed, p50 ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms`)
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
