/**
 * The temporary folder of a local cluster (`edge-mesh demo`) outlives a
 * parent killed with `kill -9`, which runs no clean-up code. This small
 * process does it instead: its parent starts it with a pipe as stdin and
 * writes the pid of every child it spawns there, one per line. When the pipe
 * ends (the parent exited, however it did), it waits for those children to
 * exit (they stop by themselves, see parent-watch.ts), kills any left after
 * `CHILD_EXIT_GRACE_MS`, and removes the folder.
 *
 * Run as `node temp-dir-watchdog.js <dir>`; started by `removeWhenParentDies` in cluster.ts.
 */
import { rmSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { processAlive } from '../node/data-lock.js'

/** How long children get to stop by themselves before they are killed, ms. */
export const CHILD_EXIT_GRACE_MS = 15_000
/** How often the children are checked, ms. */
export const CHILD_POLL_MS = 100

/** Wait until every pid has exited, killing those left after the grace period. */
async function waitForExit (pids: Set<number>): Promise<void> {
  const killAt = Date.now() + CHILD_EXIT_GRACE_MS
  let killed = false
  while ([...pids].some(processAlive)) {
    if (!killed && Date.now() > killAt) {
      killed = true
      for (const pid of pids) { try { process.kill(pid, 'SIGKILL') } catch {} }
    }
    await new Promise(resolve => setTimeout(resolve, CHILD_POLL_MS))
  }
}

async function watch (dir: string): Promise<void> {
  const pids = new Set<number>()
  const lines = createInterface({ input: process.stdin })
  lines.on('line', line => {
    const pid = Number(line.trim())
    if (Number.isInteger(pid) && pid > 0) pids.add(pid)
  })
  await new Promise(resolve => { lines.once('close', resolve) })
  await waitForExit(pids)
  rmSync(dir, { recursive: true, force: true })
}

const dir = process.argv[2]
if (dir == null || dir === '') {
  process.stderr.write('usage: temp-dir-watchdog <dir>\n')
  process.exit(2)
}
watch(dir).catch(err => {
  process.stderr.write(`edge-mesh watchdog: ${String(err?.message ?? err)}\n`)
  process.exit(1)
})
