/**
 * Atomic, durable file writes, for every file edge-mesh keeps across restarts
 * (identity key, known peers, run records and summaries, checkpoints, the
 * model cache).
 *
 * A reader sees either the old content or the new, never a torn file: the
 * data goes to `<path>.tmp`, which is fsynced and then renamed over `path`.
 * Renaming alone is not enough after a power loss: the rename may reach the
 * disk before the data (so `path` names an empty file), and the rename itself
 * lives in the directory, so the directory is fsynced too. One writer per
 * path at a time (the temporary name is fixed, so a crash leaves at most one
 * leftover, replaced by the next write).
 */
import { open, rename } from 'node:fs/promises'
import { dirname } from 'node:path'

/** What a file is written from: text, bytes, or a sequence of byte chunks. */
export type FileData = string | Uint8Array | Iterable<Uint8Array>

export interface WriteOptions {
  /** File mode of a newly created file. @default 0o666 (minus umask) */
  mode?: number
}

/** Write `data` to `path` and fsync it (no rename: for files inside a directory that is renamed into place). */
export async function writeFileSynced (path: string, data: FileData, options: WriteOptions = {}): Promise<void> {
  const handle = await open(path, 'w', options.mode)
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) {
      await handle.writeFile(data)
    } else {
      for (const chunk of data) await handle.write(chunk)
    }
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Make a rename or a new entry in `dir` durable. Platforms that cannot open a
 * directory for fsync (Windows) skip it.
 */
export async function syncDir (dir: string): Promise<void> {
  let handle
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch (err: any) {
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EBADF'].includes(err?.code)) throw err
  } finally {
    await handle?.close()
  }
}

/** Replace `path` with `data` atomically and durably: temporary file, fsync, rename, fsync of the directory. */
export async function writeFileAtomic (path: string, data: FileData, options: WriteOptions = {}): Promise<void> {
  const tmp = `${path}.tmp`
  await writeFileSynced(tmp, data, options)
  await rename(tmp, path)
  await syncDir(dirname(path))
}
