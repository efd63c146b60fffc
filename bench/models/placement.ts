/**
 * Where the benchmark's processes run on this machine's two cores.
 *
 * - `one-core-each`: every node is pinned to its own core (`taskset`), as two
 *   one-core devices would be: the node under test (the driver process, A) to
 *   core 0, its peer B to core 1. A alone then computes on one core, helper
 *   threads (V8's garbage collector, libuv) included, which is what the issue
 *   means by "one wasm core each; the ideal is 2x".
 * - `unpinned`: the kernel places every thread. A lone node then borrows part
 *   of the second core for its helper threads (its CPU share is 1.03-1.08 cores
 *   in the reports), so the second node adds less than a core: the speed-up
 *   measured this way is the stricter one, and is reported beside the other.
 */
import { execFileSync } from 'node:child_process'

export type Placement = 'one-core-each' | 'unpinned'

export const PLACEMENTS: readonly Placement[] = ['one-core-each', 'unpinned']

/** Core of the node under test (A) and of the compute child run alone. */
export const SELF_CORE = 0
/** Core of the peer (B) and of the second compute child. */
export const PEER_CORE = 1

/** The command prefix that runs a process pinned to `core` (`taskset -c core`). */
export function pinnedTo (core: number): string[] {
  return ['taskset', '-c', String(core)]
}

/** The command prefix that runs a process on `core` as `placement` says (none when unpinned). */
export function corePrefix (placement: Placement, core: number): string[] | undefined {
  return placement === 'one-core-each' ? pinnedTo(core) : undefined
}

/**
 * Pins every thread of this process to `core` when `placement` pins, and
 * returns the function that gives them back the affinity mask they had.
 * Threads started later inherit the mask of the thread that starts them.
 */
export function pinSelf (placement: Placement, core: number): () => void {
  if (placement !== 'one-core-each') return () => {}
  const pid = String(process.pid)
  // `taskset -p PID` prints "pid N's current affinity mask: 3".
  const mask = execFileSync('taskset', ['-p', pid], { encoding: 'utf8' }).trim().split(' ').at(-1) ?? ''
  execFileSync('taskset', ['-a', '-p', '-c', String(core), pid], { stdio: 'ignore' })
  return () => { execFileSync('taskset', ['-a', '-p', mask, pid], { stdio: 'ignore' }) }
}
