/**
 * The physical ceiling of the burst speed-up on this machine, measured beside
 * it: the "ideal is 2x" assumes that a second process computes at the
 * same speed as the first while both run. Here two pure-compute processes
 * (`compute-child.ts`: the model in a bare model runtime, no mesh, no
 * network) run `CEILING.inferences` predictions each, first one alone, then
 * two at once. The ceiling is `2 x alone / slower of the two`: what two cores
 * give this model when nothing but the model runs, the speed-up an offload
 * with zero overhead would reach. Memory bandwidth, the shared L3 cache and
 * the host's other tenants all lower it below 2, and unpinned, the lone
 * process's helper threads borrow the second core. It is measured in each
 * placement (`placement.ts`) the bursts are.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { median, round3 } from '../shared/stats.js'
import { CEILING } from './constants.js'
import { corePrefix, PEER_CORE, SELF_CORE } from './placement.js'
import type { Placement } from './placement.js'

export interface CeilingRound {
  /** One process alone, ms per inference. */
  aloneMs: number
  /** Two processes at once, ms per inference of each. */
  concurrentMs: [number, number]
  /** 2 x aloneMs / max(concurrentMs). */
  ceiling: number
}

export interface CeilingResult {
  rounds: CeilingRound[]
  /** Median of the rounds' ceilings. */
  ceiling: number
}

interface Child { ready: Promise<void>, done: Promise<number>, go(): void, stop(): void }

function startChild (model: string, count: number, prefix: string[] = []): Child {
  const script = fileURLToPath(new URL('./compute-child.js', import.meta.url))
  const [command, ...args] = [...prefix, process.execPath, script, String(count), model]
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  let markReady: () => void = () => {}
  let failReady: (err: Error) => void = () => {}
  const ready = new Promise<void>((resolve, reject) => { markReady = resolve; failReady = reject })
  const done = new Promise<number>((resolve, reject) => {
    lines.on('line', line => {
      if (line === 'ready') { markReady(); return }
      try { resolve(JSON.parse(line).msPerInference) } catch (err) { reject(err) }
    })
    // After its answer this rejects nothing (a settled promise stays settled); before it, it is a failure.
    child.once('exit', code => {
      const err = new Error(`compute child exited with ${String(code)} before its answer`)
      failReady(err)
      reject(err)
    })
  })
  // `done` is awaited only after `ready`: a child that dies early fails `ready`, not an unhandled `done`.
  done.catch(() => {})
  return { ready, done, go: () => { child.stdin.write('go\n') }, stop: () => { if (child.exitCode == null) child.kill('SIGTERM') } }
}

/** Runs one child of `model` per entry of `cores` (the core it is pinned to, as `placement` says) at once. */
async function timed (model: string, placement: Placement, cores: number[], count: number): Promise<number[]> {
  const started = cores.map(core => startChild(model, count, corePrefix(placement, core)))
  try {
    await Promise.all(started.map(async c => { await c.ready }))
    for (const c of started) c.go()
    return await Promise.all(started.map(async c => await c.done))
  } finally {
    // A child that failed must not leave its sibling waiting for a `go` that never comes.
    for (const c of started) c.stop()
  }
}

/** The ceiling of `model` with the processes placed as `placement` says: the lone child where A runs, the pair where A and B run. */
export async function measureCeiling (model: string, placement: Placement, progress: (line: string) => void): Promise<CeilingResult> {
  const rounds: CeilingRound[] = []
  for (let r = 0; r < CEILING.rounds; r++) {
    const [aloneMs] = await timed(model, placement, [SELF_CORE], CEILING.inferences)
    const [x, y] = await timed(model, placement, [SELF_CORE, PEER_CORE], CEILING.inferences)
    const round = { aloneMs: round3(aloneMs), concurrentMs: [round3(x), round3(y)] as [number, number], ceiling: round3(2 * aloneMs / Math.max(x, y)) }
    progress(`ceiling (${placement}) round ${r + 1}/${CEILING.rounds}: alone ${round.aloneMs} ms, two at once ${round.concurrentMs.join(' and ')} ms per inference: x${round.ceiling}`)
    rounds.push(round)
  }
  return { rounds, ceiling: round3(median(rounds.map(r => r.ceiling))) }
}
