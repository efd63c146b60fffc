/** The data-dir lock, the default data root and printable CLI output. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { printable, printableJson, table } from '../../../src/cli/output.js'
import { defaultDataRoot } from '../../../src/node/data-dir.js'
import { LOCK_FILE, lockDataDir, lockIsLive } from '../../../src/node/data-lock.js'
import { exitCodeFor } from '../../../src/cli/errors.js'

describe('the data-dir lock', () => {
  it('binds while its owner runs here; a lock from another host always binds', () => {
    expect(lockIsLive(undefined)).toBe(false)
    expect(lockIsLive({ pid: 1, host: 'a', since: 0 }, () => false, 'a')).toBe(false)
    expect(lockIsLive({ pid: 1, host: 'a', since: 0 }, () => true, 'a')).toBe(true)
    expect(lockIsLive({ pid: 1, host: 'b', since: 0 }, () => false, 'a')).toBe(true)
  })

  it('refuses a second holder, takes over a dead owner\'s lock, and releases its own', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edge-mesh-lock-'))
    try {
      const release = lockDataDir(dir)
      let name = ''
      try { lockDataDir(dir) } catch (err: any) { name = err.name; expect(exitCodeFor(err)).toBe(5) }
      expect(name).toBe('DataDirLockedError')
      release()
      await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 1, host: (await import('node:os')).hostname(), since: 0 }))
      const again = lockDataDir(dir)
      expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid)
      again()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('defaultDataRoot', () => {
  it('is the user\'s data directory, never the working directory', () => {
    expect(defaultDataRoot({ XDG_DATA_HOME: '/x/data' }, 'linux', '/home/u')).toBe('/x/data/edge-mesh')
    expect(defaultDataRoot({}, 'linux', '/home/u')).toBe('/home/u/.local/share/edge-mesh')
    expect(defaultDataRoot({ XDG_DATA_HOME: 'relative' }, 'linux', '/home/u')).toBe('/home/u/.local/share/edge-mesh')
    expect(defaultDataRoot({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Application Support/edge-mesh')
  })
})

describe('printable output', () => {
  it('escapes control characters from peers', () => {
    expect(printable('a\u001b[2Jb\u0007\n\u202e\u009b')).toBe('a\\x1b[2Jb\\x07\\x0a\\u202e\\x9b')
    expect(printable('plain näme ✓')).toBe('plain näme ✓')
    expect(table(['NAME'], [['x\u001by']])).toBe('NAME\nx\\x1by')
    const json = printableJson({ name: 'a\u001b\u009b\u202e' })
    expect(json).not.toMatch(/[\u001b\u009b\u202e]/)
    expect(JSON.parse(json).name).toBe('a\u001b\u009b\u202e')
  })
})
