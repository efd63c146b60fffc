/** The runnable examples keep working: each is run as a user would run it. */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

describe('examples', () => {
  it('laptop-cluster: three nodes from code find each other and offload an inference', () => {
    const script = 'dist/examples/laptop-cluster/index.js'
    expect(existsSync(script)).toBe(true)
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 120_000 })
    expect(r.stderr).not.toMatch(/Error/)
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/laptop-3 sees: laptop-\d \(1 models.*laptop-\d \(1 models/)
    expect(r.stdout).toMatch(/laptop-3 asked for digit 7: class 7, served by laptop-[12] /)
  })
})
