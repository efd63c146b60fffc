/**
 * `npm run bench:spotcheck`: what spot checks of remote inference results cost
 * and how fast they catch a lying peer (settings in `constants.ts`,
 * `SPOT_CHECK`). Prints the result as JSON on stdout (progress on stderr) and
 * writes it to `bench-results/spotcheck.json`.
 *
 * 1. Overhead: throughput and mean latency at 1 % and 10 % relative to 0 %,
 *    measured side by side (rotating blocks against the same honest peer),
 *    the median of the per-repeat ratios.
 * 2. Detection: requests until a lie is caught, for a peer that lies on every
 *    answer and on 10 % of answers, against the expectation 1 / (rate x lieRate).
 */
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { loopbackAddress } from '../../src/cli/cluster.js'
import { mulberry32 } from '../../src/model/random.js'
import { median, round2, round3 } from '../shared/stats.js'
import { startBenchRun } from '../shared/run.js'
import { DEADLINE_MS, MODEL_DIR, MODEL_ID, SPOT_CHECK } from './constants.js'
import { benchInput, startInProcessNode, waitForPeers } from './driver.js'
import { Processes } from './processes.js'
import type { InProcessNode } from './driver.js'
import type { TensorData } from '../../src/model/types.js'
import type { ChildProcess } from 'node:child_process'

const LYING_PEER = fileURLToPath(new URL('../../../test/fixtures/lying-peer.js', import.meta.url))

function progress (line: string): void {
  process.stderr.write(`[bench:spotcheck ${new Date().toISOString().slice(11, 19)}] ${line}\n`)
}

/** `n` requests through `node`, `concurrency` in flight; calls `after` with the count done after each. */
async function closedLoop (node: InProcessNode, input: TensorData, n: number, concurrency: number, after?: (done: number) => boolean): Promise<{ ms: number, latencies: number[], failed: number }> {
  let next = 0
  let done = 0
  let failed = 0
  let stop = false
  const latencies: number[] = []
  const started = performance.now()
  const worker = async (): Promise<void> => {
    while (next < n && !stop) {
      next++
      const t = performance.now()
      try {
        await node.offload.infer(MODEL_ID, [input], { prefer: 'remote', deadlineMs: DEADLINE_MS })
        latencies.push(performance.now() - t)
      } catch {
        failed++
      }
      done++
      if (after?.(done) === true) stop = true
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { ms: performance.now() - started, latencies, failed }
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)

async function measureOverhead (processes: Processes, input: TensorData): Promise<Record<string, unknown>> {
  const honest = await processes.serving('spot-honest', { capacity: 2, maxQueue: 256 })
  const drivers = await Promise.all(SPOT_CHECK.rates.map(async (rate, i) =>
    await startInProcessNode({ peers: [honest.address], models: [MODEL_DIR], spotCheckRate: rate, random: mulberry32(SPOT_CHECK.seed + i) })))
  try {
    await Promise.all(drivers.map(async d => { await waitForPeers(d, [honest.node.peerId]) }))
    for (const d of drivers) await closedLoop(d, input, SPOT_CHECK.warmupRequests, SPOT_CHECK.concurrency)
    const perRepeat: Array<Array<{ rps: number, meanMs: number, failed: number }>> = []
    for (let r = 0; r < SPOT_CHECK.repeats; r++) {
      const row: Array<{ rps: number, meanMs: number, failed: number }> = []
      // Rotate the order so no rate always runs first (or last) in a repeat.
      const order = SPOT_CHECK.rates.map((_, i) => (i + r) % SPOT_CHECK.rates.length)
      for (const i of order) {
        const { ms, latencies, failed } = await closedLoop(drivers[i], input, SPOT_CHECK.requests, SPOT_CHECK.concurrency)
        row[i] = { rps: latencies.length / ms * 1000, meanMs: mean(latencies), failed }
        progress(`overhead: repeat ${r + 1}, rate ${SPOT_CHECK.rates[i]}: ${Math.round(row[i].rps)} req/s, mean ${round2(row[i].meanMs)} ms`)
      }
      perRepeat.push(row)
    }
    const byRate: Record<string, unknown> = {}
    SPOT_CHECK.rates.forEach((rate, i) => {
      byRate[String(rate)] = {
        throughputRps: round2(median(perRepeat.map(row => row[i].rps))),
        meanLatencyMs: round2(median(perRepeat.map(row => row[i].meanMs))),
        throughputRatio: round3(median(perRepeat.map(row => row[i].rps / row[0].rps))),
        latencyRatio: round3(median(perRepeat.map(row => row[i].meanMs / row[0].meanMs))),
        spotChecks: drivers[i].offload.stats().spotChecks,
        failed: perRepeat.reduce((n, row) => n + row[i].failed, 0)
      }
    })
    return byRate
  } finally {
    await Promise.all(drivers.map(async d => { await d.stop() }))
    await processes.stopAll()
  }
}

/** Start test/fixtures/lying-peer.js and wait for its address. */
async function startLiar (lieRate: number, seed: number, dataDir: string): Promise<{ child: ChildProcess, address: string, peerId: string }> {
  const host = loopbackAddress(160)
  const child = spawn(process.execPath, [LYING_PEER, JSON.stringify({ model: MODEL_DIR, lieRate, seed, host, dataDir })], { stdio: ['ignore', 'pipe', 'inherit'] })
  const ready = await new Promise<{ peerId: string, addresses: string[] }>((resolve, reject) => {
    child.once('exit', code => { reject(new Error(`lying peer exited with ${String(code)}`)) })
    createInterface({ input: child.stdout! }).on('line', line => {
      try { const e = JSON.parse(line); if (e.event === 'ready') resolve(e) } catch {}
    })
  })
  return { child, peerId: ready.peerId, address: ready.addresses.find(a => a.includes(`/ip4/${host}/`)) ?? ready.addresses[0] }
}

async function measureDetection (input: TensorData): Promise<unknown[]> {
  const out: unknown[] = []
  for (const [k, { rate, lieRate }] of SPOT_CHECK.detection.entries()) {
    const dir = await mkdtemp(join(tmpdir(), 'edge-mesh-liar-'))
    const liar = await startLiar(lieRate, SPOT_CHECK.seed + k, dir)
    const driver = await startInProcessNode({ peers: [liar.address], models: [MODEL_DIR], spotCheckRate: rate, random: mulberry32(SPOT_CHECK.seed + 100 + k) })
    try {
      await waitForPeers(driver, [liar.peerId])
      const catchesAt: number[] = []
      let seen = 0
      const { failed } = await closedLoop(driver, input, SPOT_CHECK.maxRequests, SPOT_CHECK.detectionConcurrency, done => {
        const mismatches = driver.offload.stats().spotChecks?.mismatches ?? 0
        while (seen < mismatches) { seen++; catchesAt.push(done) }
        return catchesAt.length >= SPOT_CHECK.catches
      })
      const requests = catchesAt.at(-1) ?? SPOT_CHECK.maxRequests
      const intervals = catchesAt.map((at, i) => at - (i === 0 ? 0 : catchesAt[i - 1]))
      const result = {
        rate,
        lieRate,
        expectedRequestsToCatch: round2(1 / (rate * lieRate)),
        meanRequestsToCatch: catchesAt.length === 0 ? null : round2(requests / catchesAt.length),
        medianRequestsToCatch: catchesAt.length === 0 ? null : median(intervals),
        firstCatchAt: catchesAt[0] ?? null,
        catches: catchesAt.length,
        requests,
        failed
      }
      progress(`detection: rate ${rate}, lie rate ${lieRate}: ${JSON.stringify(result)}`)
      out.push(result)
    } finally {
      await driver.stop()
      liar.child.kill('SIGKILL')
      await rm(dir, { recursive: true, force: true })
    }
  }
  return out
}

async function main (): Promise<void> {
  const processes = new Processes()
  const run = startBenchRun(async () => { await processes.stopAll() })
  const input = await benchInput()
  progress('overhead of spot checks at 0 %, 1 %, 10 %')
  const overhead = await measureOverhead(processes, input)
  progress('requests to catch a lying peer')
  const detection = await measureDetection(input)
  const result = { settings: SPOT_CHECK, overhead, detection, loadAverage: run.loadAverage(), wallS: run.elapsedS() }
  const text = JSON.stringify(result, null, 2)
  await mkdir('bench-results', { recursive: true })
  await writeFile('bench-results/spotcheck.json', text + '\n')
  process.stdout.write(text + '\n')
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`bench:spotcheck failed: ${String(err?.stack ?? err)}\n`)
  process.exit(1)
})
