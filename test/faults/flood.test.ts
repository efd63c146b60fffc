/**
 * A flood of hostile streams on `/edge-mesh/infer/1.0.0` (issue "Trust and
 * faults", hostile input): a rogue peer in its own process opens streams on a
 * victim as fast as it can for a bounded time and sends garbage, unframed
 * bytes, oversized and near-limit length prefixes (then stalls), requests for
 * an unknown model and valid heavy requests, while an honest peer keeps
 * asking the victim for real inferences.
 *
 * The bounds are the issue's, measured by the victim itself (`GET /status`
 * `process`): resident memory grows by at most 50 MB over its warmed-up
 * baseline, event-loop lag p99 stays at most 100 ms, and every honest request
 * succeeds (the victim serves them, or the honest client's hedge does).
 *
 * `FLOOD_KINDS=heavy,near-limit` (comma-separated kinds of test/fixtures/flood-peer.js)
 * floods with a subset of kinds, to find which one breaks a bound.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { MNIST_MODEL_DIR, MNIST_MODEL_ID, TestCluster, addressOn, inferVia, loopbackAddress, mnistDigit, status, waitFor } from '../fixtures/index.js'
import type { NodeProcess } from '../fixtures/index.js'

const FLOOD_MS = 20_000
const MAX_RSS_GROWTH_BYTES = 50 * 1000 * 1000
const MAX_LAG_P99_MS = 100
const FLOOD_PEER = fileURLToPath(new URL('../fixtures/flood-peer.js', import.meta.url))

interface FloodReport { streams: number, elapsedMs: number, counts: Record<string, number> }

/** Run the flooder in its own process; resolves with its counters when its bounded flood is over. */
async function flood (options: Record<string, unknown>): Promise<FloodReport> {
  const child = spawn(process.execPath, [FLOOD_PEER, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] })
  const stderr: string[] = []
  createInterface({ input: child.stderr }).on('line', line => { if (stderr.length < 50) stderr.push(line) })
  let report: FloodReport | undefined
  createInterface({ input: child.stdout }).on('line', line => { try { report = JSON.parse(line) } catch {} })
  const code = await new Promise<number | null>(resolve => { child.once('exit', resolve) })
  if (code !== 0 || report == null) throw new Error(`flood peer exited with ${String(code)}: ${stderr.join('\n')}`)
  return report
}

/** The victim's own process figures, sampled until `until` settles. */
async function sampleWhile (victim: NodeProcess, until: Promise<unknown>): Promise<{ peakRss: number, peakLagP99: number, peakHeap: number, samples: number }> {
  let done = false
  void until.finally(() => { done = true }).catch(() => {})
  const figures = { peakRss: 0, peakLagP99: 0, peakHeap: 0, samples: 0 }
  while (!done) {
    const { process: p } = await status(victim)
    figures.peakRss = Math.max(figures.peakRss, p.rssBytes)
    figures.peakLagP99 = Math.max(figures.peakLagP99, p.eventLoopLagP99Ms)
    figures.peakHeap = Math.max(figures.peakHeap, p.heapUsedBytes)
    figures.samples++
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  return figures
}

/** Honest inference requests through `via`, one after another, until `until` settles. */
async function honestTraffic (via: NodeProcess, until: Promise<unknown>): Promise<Array<{ status: number, body: any }>> {
  let done = false
  void until.finally(() => { done = true }).catch(() => {})
  const input = await mnistDigit(7)
  const results: Array<{ status: number, body: any }> = []
  while (!done) results.push(await inferVia(via, { model: MNIST_MODEL_ID, inputs: [input], prefer: 'remote', deadlineMs: 30_000 }))
  return results
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(1)

describe('a flood of hostile streams on /edge-mesh/infer/1.0.0', () => {
  const cluster = new TestCluster()
  afterAll(async () => { await cluster.cleanup() })

  it('keeps the victim within its memory and event-loop bounds, serving every honest request', async () => {
    const victim = await cluster.start('flood-victim', ['--model', MNIST_MODEL_DIR])
    const honest = await cluster.start('flood-honest', ['--bootstrap', addressOn(victim, loopbackAddress(0))])
    await waitFor('the honest peer sees the victim announce the model', async () => {
      const peer = (await status(honest)).peers.find(p => p.peerId === victim.peerId)
      return peer?.connected === true && peer.load?.models.includes(MNIST_MODEL_ID) === true
    })

    // Warm up both paths (remote serving and local predict) before taking the baseline.
    const input = await mnistDigit(7)
    for (let i = 0; i < 10; i++) {
      expect((await inferVia(honest, { model: MNIST_MODEL_ID, inputs: [input], prefer: 'remote', deadlineMs: 30_000 })).status).toBe(200)
      expect((await inferVia(victim, { model: MNIST_MODEL_ID, inputs: [input], prefer: 'local' })).status).toBe(200)
    }
    const warm = (await status(victim)).process
    // Control phase: the same honest traffic without a flood, for as long as the flood lasts.
    // Serving alone raises RSS for a while (allocator high-water marks), so the baseline is
    // taken at the end of this phase: what the flood adds on top is what the limit bounds.
    // Two equal honest-only phases: the first lets the climb slow down, the second measures what
    // serving alone still adds in that time, so the flood is charged only with what it adds on top.
    const honestOnly = async (): Promise<{ rss: number, served: number }> => {
      const phase = new Promise(resolve => setTimeout(resolve, FLOOD_MS))
      const [figures, served] = await Promise.all([sampleWhile(victim, phase), honestTraffic(honest, phase)])
      expect(served.every(r => r.status === 200)).toBe(true)
      return { rss: Math.max(figures.peakRss, (await status(victim)).process.rssBytes), served: served.length }
    }
    const first = await honestOnly()
    const second = await honestOnly()
    const controlGrowth = Math.max(0, second.rss - first.rss)
    const controlServed = { length: first.served + second.served }
    const baseline = { ...(await status(victim)).process, rssBytes: second.rss }

    const flooding = flood({ target: addressOn(victim, loopbackAddress(0)), host: loopbackAddress(7), durationMs: FLOOD_MS, modelId: MNIST_MODEL_ID, ...(process.env.FLOOD_KINDS != null ? { kinds: process.env.FLOOD_KINDS.split(',') } : {}) })
    const [report, figures, served] = await Promise.all([flooding, sampleWhile(victim, flooding), honestTraffic(honest, flooding)])
    const after = (await status(victim)).process
    const peakRss = Math.max(figures.peakRss, after.rssBytes)
    const peakLagP99 = Math.max(figures.peakLagP99, after.eventLoopLagP99Ms)
    const servedByVictim = served.filter(r => r.status === 200 && r.body.servedBy === victim.peerId).length

    console.log([
      `flood: ${report.streams} hostile streams in ${report.elapsedMs} ms (${JSON.stringify(report.counts)})`,
      `victim RSS: after warm-up ${mb(warm.rssBytes)} MB, after ${2 * FLOOD_MS / 1000} s of honest traffic alone (${controlServed.length} requests) ${mb(baseline.rssBytes)} MB; with the flood`,
      `  serving alone added ${mb(controlGrowth)} MB in the second ${FLOOD_MS / 1000} s; baseline ${mb(baseline.rssBytes)} MB, peak ${mb(peakRss)} MB, growth ${mb(peakRss - baseline.rssBytes)} MB, attributable to the flood ${mb(peakRss - baseline.rssBytes - controlGrowth)} MB (limit ${mb(MAX_RSS_GROWTH_BYTES)} MB)`,
      `victim JS heap: baseline ${mb(baseline.heapUsedBytes)} MB, peak ${mb(figures.peakHeap)} MB`,
      `victim event-loop lag p99: baseline ${baseline.eventLoopLagP99Ms.toFixed(1)} ms, peak during the flood ${peakLagP99.toFixed(1)} ms (limit ${MAX_LAG_P99_MS} ms), ${figures.samples} samples`,
      `honest requests during the flood: ${served.length}, served by the victim: ${servedByVictim}, failed: ${served.filter(r => r.status !== 200).length}`
    ].join('\n'))

    expect(report.streams).toBeGreaterThan(1000)
    expect(served.length).toBeGreaterThan(0)
    expect(served.filter(r => r.status !== 200).map(r => r.body.error)).toEqual([])
    // The honest client may hedge a slow attempt to another candidate; the victim must still serve others.
    expect(servedByVictim).toBeGreaterThan(0)
    expect(peakRss - baseline.rssBytes - controlGrowth).toBeLessThanOrEqual(MAX_RSS_GROWTH_BYTES)
    expect(peakLagP99).toBeLessThanOrEqual(MAX_LAG_P99_MS)
    expect(victim.child.exitCode).toBeNull()
  })
})
