/**
 * Runs simulation jobs on a few worker threads. `simulateMesh` is pure and
 * deterministic (seeded; simulated time, not the clock), so running jobs side
 * by side changes only how long the phase takes, never its figures. Jobs are
 * started in the order given (put the longest first) and answered in that order.
 */
import { Worker } from 'node:worker_threads'
import type { MeshSimInit, MeshSimResult } from './mesh.js'

export interface PooledRun { result: MeshSimResult, wallS: number }

/**
 * Run every job on `workers` threads with a young generation of
 * `youngGenerationMb` (the simulation allocates many short-lived objects; a
 * larger young generation spends less time collecting them); `onDone` is
 * called as each finishes.
 */
export async function runPooled (jobs: MeshSimInit[], workers: number, youngGenerationMb: number, onDone?: (index: number, run: PooledRun) => void): Promise<PooledRun[]> {
  const out: PooledRun[] = new Array(jobs.length)
  let next = 0
  const script = new URL('./worker.js', import.meta.url)
  const lane = async (): Promise<void> => {
    if (next >= jobs.length) return
    const worker = new Worker(script, { resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb } })
    try {
      while (next < jobs.length) {
        const id = next++
        out[id] = await new Promise<PooledRun>((resolve, reject) => {
          const onError = (err: Error): void => { reject(err) }
          worker.once('error', onError)
          worker.once('message', (m: { id: number, result: MeshSimResult, wallS: number }) => {
            worker.off('error', onError)
            resolve({ result: m.result, wallS: m.wallS })
          })
          worker.postMessage({ id, init: jobs[id] })
        })
        onDone?.(id, out[id])
      }
    } finally {
      await worker.terminate()
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, workers) }, lane))
  return out
}
