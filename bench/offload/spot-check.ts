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
 *    answer and on 10 % of answers, against the expectation 1 / (rate x lieRate):
 *    only the liar's answers count, and each catch is one sample.
 *
 * `BENCH_PHASES=overhead` or `BENCH_PHASES=detection` runs one of them.
 */
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { loopbackAddress } from '../../src/cli/cluster.js'
import { mulberry32 } from '../../src/model/random.js'
import { mean, median, round2, round3 } from '../shared/stats.js'
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

/** `n` requests through `node` (prefer remote), `concurrency` in flight. */
async function closedLoop (node: InProcessNode, input: TensorData, n: number, concurrency: number): Promise<{ ms: number, latencies: number[], failed: number }> {
  let next = 0
  let failed = 0
  const latencies: number[] = []
  const started = performance.now()
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++
      const t = performance.now()
      try {
        await node.offload.infer(MODEL_ID, [input], { prefer: 'remote', deadlineMs: DEADLINE_MS })
        latencies.push(performance.now() - t)
      } catch {
        failed++
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { ms: performance.now() - started, latencies, failed }
}

async function measureOverhead (processes: Processes, input: TensorData): Promise<Record<string, unknown>> {
  const honest = await processes.serving('spot-honest', { capacity: 2, maxQueue: 256 })
  const drivers = await Promise.all(SPOT_CHECK.rates.map(async (rate, i) =>
    await startInProcessNode({ peers: [honest.address], models: [MODEL_DIR], spotCheckRate: rate, random: mulberry32(SPOT_CHECK.seed + i) })))
  try {
    await Promise.all(drivers.map(async d => { await waitForPeers(d, [honest.node.peerId]) }))
    for (const d of drivers) await closedLoop(d, input, SPOT_CHECK.warmupRequests, SPOT_CHECK.concurrency)
    const perRepeat: Array<Array<{ rps: number, meanMs: number, failed: number }>> = []
    const blocks = Math.ceil(SPOT_CHECK.requests / SPOT_CHECK.blockRequests)
    for (let r = 0; r < SPOT_CHECK.repeats; r++) {
      const totals = SPOT_CHECK.rates.map(() => ({ ms: 0, latencies: [] as number[], failed: 0 }))
      // Short blocks in rotating order: the machine's drift (it is shared) falls on every rate alike.
      for (let b = 0; b < blocks; b++) {
        for (let k = 0; k < SPOT_CHECK.rates.length; k++) {
          const i = (k + b + r) % SPOT_CHECK.rates.length
          const { ms, latencies, failed } = await closedLoop(drivers[i], input, SPOT_CHECK.blockRequests, SPOT_CHECK.concurrency)
          totals[i].ms += ms
          totals[i].latencies.push(...latencies)
          totals[i].failed += failed
        }
      }
      const row = totals.map(t => ({ rps: t.latencies.length / t.ms * 1000, meanMs: mean(t.latencies), failed: t.failed }))
      row.forEach((x, i) => { progress(`overhead: repeat ${r + 1}, rate ${SPOT_CHECK.rates[i]}: ${Math.round(x.rps)} req/s, mean ${round2(x.meanMs)} ms`) })
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

/**
 * Answers the liar gives until it is caught, `catches` times (or `maxRequests` answers). A catch
 * bans nothing here (the driver has no ban list) but closes the connection, so the driver
 * dials the liar again and waits for its load report before the next request.
 */
async function catchIntervals (driver: InProcessNode, liar: { peerId: string, address: string }, input: TensorData): Promise<{ intervals: number[], answers: number, failed: number }> {
  const intervals: number[] = []
  let since = 0
  let answers = 0
  let failed = 0
  while (answers < SPOT_CHECK.maxRequests && intervals.length < SPOT_CHECK.catches) {
    if (!driver.loadView.peers().some(p => p.peerId === liar.peerId && p.report.models.includes(MODEL_ID))) {
      if (driver.libp2p.getConnections(peerIdFromString(liar.peerId)).length === 0) await driver.libp2p.dial(multiaddr(liar.address))
      await waitForPeers(driver, [liar.peerId])
    }
    try {
      const result = await driver.offload.infer(MODEL_ID, [input], { prefer: 'remote', deadlineMs: DEADLINE_MS })
      if (result.spotCheck !== 'mismatch' && result.servedBy !== liar.peerId) continue
      answers++
      since++
      if (result.spotCheck === 'mismatch') {
        intervals.push(since)
        progress(`detection: caught after ${since} of the liar's answers (${intervals.length}/${SPOT_CHECK.catches})`)
        since = 0
      }
    } catch {
      failed++
    }
  }
  return { intervals, answers, failed }
}

async function measureDetection (input: TensorData): Promise<unknown[]> {
  const out: unknown[] = []
  for (const [k, { rate, lieRate }] of SPOT_CHECK.detection.entries()) {
    const dir = await mkdtemp(join(tmpdir(), 'edge-mesh-liar-'))
    const liar = await startLiar(lieRate, SPOT_CHECK.seed + k, dir)
    const driver = await startInProcessNode({ peers: [liar.address], models: [MODEL_DIR], spotCheckRate: rate, random: mulberry32(SPOT_CHECK.seed + 100 + k) })
    try {
      await waitForPeers(driver, [liar.peerId])
      const { intervals, answers, failed } = await catchIntervals(driver, liar, input)
      const result = {
        rate,
        lieRate,
        expectedRequestsToCatch: round2(1 / (rate * lieRate)),
        // The liar's answers per catch, counting the answers after the last catch too (a censored
        // geometric sample): the maximum-likelihood estimate of the mean.
        meanRequestsToCatch: intervals.length === 0 ? null : round2(answers / intervals.length),
        medianRequestsToCatch: intervals.length === 0 ? null : median(intervals),
        intervals,
        catches: intervals.length,
        liarAnswers: answers,
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
  const only = process.env.BENCH_PHASES?.split(',')
  const want = (phase: string): boolean => only == null || only.includes(phase)
  progress('overhead of spot checks at 0 %, 1 %, 10 %')
  const overhead = want('overhead') ? await measureOverhead(processes, input) : undefined
  progress('requests to catch a lying peer')
  const detection = want('detection') ? await measureDetection(input) : undefined
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
