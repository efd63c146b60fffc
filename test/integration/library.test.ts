/** edge-mesh inside an application process: the host's own errors stay the host's. */
import { spawnSync } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '../fixtures/index.js'

describe('edge-mesh in an application process', () => {
  const dirs: string[] = []
  afterAll(async () => { await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) })) })

  it('an uncaught error of the application exits with code 1 and its own stack, also on the wasm backend', async () => {
    const dir = await tempDir()
    dirs.push(dir)
    const entry = pathToFileURL(join(process.cwd(), 'dist/src/index.js')).href
    const script = `
      import { createEdgeMeshNode } from ${JSON.stringify(entry)}
      const node = await createEdgeMeshNode({ apiPort: 0, mdns: false, listen: ['/ip4/127.0.0.1/tcp/0'], dataDir: ${JSON.stringify(dir)} })
      console.log('backend', node.services.models.backend)
      setTimeout(function applicationCode () { throw new Error('a bug in the application') }, 0)`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8', timeout: 60_000, env: { ...process.env, EDGE_MESH_BACKEND: 'wasm' }
    })
    expect(r.stdout).toContain('backend wasm')
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('Error: a bug in the application')
    expect(r.stderr).toContain('at Timeout.applicationCode')
  })
})
