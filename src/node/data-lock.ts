/**
 * One node per data directory, as IPFS Kubo's `repo.lock`: two nodes on one
 * folder would share a peer id and overwrite each other's checkpoints. The
 * lock is a file `<dataDir>/node.lock` created exclusively, holding the
 * owner's pid and host name. A lock whose pid no longer runs on this host is
 * stale (the node crashed or was killed) and is taken over.
 */
import { hostname } from 'node:os'
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DataDirLockedError, InvalidConfigError } from '../errors.js'

export const LOCK_FILE = 'node.lock'

export interface LockOwner {
  pid: number
  host: string
  since: number
}

/** True when process `pid` runs on this machine (EPERM: it runs, as another user). */
export function processAlive (pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    return err?.code === 'EPERM'
  }
}

/** Whether a lock held by `owner` still binds: its process runs (a lock from another host always binds). */
export function lockIsLive (owner: LockOwner | undefined, alive: (pid: number) => boolean = processAlive, thisHost = hostname()): boolean {
  if (owner == null) return false
  return owner.host !== thisHost || alive(owner.pid)
}

function readOwner (file: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8'))
    return typeof owner?.pid === 'number' && typeof owner?.host === 'string' ? owner : undefined
  } catch {
    return undefined
  }
}

function tryCreate (file: string, owner: LockOwner): boolean {
  try {
    writeFileSync(file, JSON.stringify(owner) + '\n', { flag: 'wx', mode: 0o600 })
    return true
  } catch (err: any) {
    if (err?.code === 'EEXIST') return false
    throw new InvalidConfigError(`dataDir: cannot create ${file}: ${err?.message}`)
  }
}

/** Take the lock on `dataDir` (creating the folder); returns its release function. */
export function lockDataDir (dataDir: string): () => void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  } catch (err: any) {
    throw new InvalidConfigError(`dataDir: cannot create ${dataDir}: ${err?.message}`)
  }
  const file = join(dataDir, LOCK_FILE)
  const me: LockOwner = { pid: process.pid, host: hostname(), since: Date.now() }
  for (let attempt = 0; attempt < 2; attempt++) {
    if (tryCreate(file, me)) {
      // Also on process.exit() (a forced stop): only SIGKILL or a crash leaves a stale lock.
      const onExit = (): void => { release(file) }
      process.once('exit', onExit)
      return () => {
        process.removeListener('exit', onExit)
        release(file)
      }
    }
    const owner = readOwner(file)
    if (lockIsLive(owner, processAlive, me.host)) {
      throw new DataDirLockedError(`${dataDir} is in use by another edge-mesh node (pid ${owner?.pid} on ${owner?.host}); stop it, or give this node its own --data-dir`)
    }
    // Stale (dead owner) or unreadable: take it over.
    try { unlinkSync(file) } catch {}
  }
  throw new DataDirLockedError(`${dataDir} is being locked by another node starting at the same time; retry`)
}

function release (file: string): void {
  if (readOwner(file)?.pid !== process.pid) return
  try { unlinkSync(file) } catch {}
}
