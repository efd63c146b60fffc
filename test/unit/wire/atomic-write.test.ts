import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { writeFileAtomic } from '../../../src/atomic-write.js'

describe('atomic write', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'edge-mesh-atomic-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('replaces a file with text, bytes or chunks and leaves no temporary file', async () => {
    const file = join(dir, 'state.json')
    await writeFileAtomic(file, '{"a":1}')
    await writeFileAtomic(file, new TextEncoder().encode('{"a":2}'))
    expect(await readFile(file, 'utf8')).toBe('{"a":2}')
    await writeFileAtomic(file, [new Uint8Array([1, 2]), new Uint8Array([3])])
    expect([...await readFile(file)]).toEqual([1, 2, 3])
    expect(await readdir(dir)).toEqual(['state.json'])
  })

  it('creates the file with the mode asked for', async () => {
    const file = join(dir, 'key')
    await writeFileAtomic(file, new Uint8Array([7]), { mode: 0o600 })
    const { stat } = await import('node:fs/promises')
    if (process.platform !== 'win32') expect((await stat(file)).mode & 0o777).toBe(0o600)
  })
})
