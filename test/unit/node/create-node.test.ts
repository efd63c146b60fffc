import { memory } from '@libp2p/memory'
import { rm } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { createEdgeMeshNode } from '../../../src/index.js'
import { DEFAULT_CAPACITY, DEFAULT_MAX_QUEUE } from '../../../src/offload/constants.js'
import { PRESETS } from '../../../src/node/presets.js'
import { tempDir } from '../../fixtures/index.js'
import type { EdgeMeshNode } from '../../../src/index.js'

describe('createEdgeMeshNode', () => {
  const cleanup: Array<() => Promise<void>> = []
  afterEach(async () => { await Promise.all(cleanup.splice(0).map(async f => { await f() })) })

  async function node (init: Parameters<typeof createEdgeMeshNode>[0] = {}): Promise<EdgeMeshNode> {
    const dataDir = await tempDir()
    const n = await createEdgeMeshNode({ mdns: false, apiPort: 0, dataDir, listen: [`/memory/${Math.random()}`], libp2p: { transports: [memory()] }, ...init })
    cleanup.push(async () => { await n.stop(); await rm(dataDir, { recursive: true, force: true }) })
    return n
  }

  it('validates settings before building anything, naming the bad one', async () => {
    await expect(createEdgeMeshNode({ capacity: 0 })).rejects.toMatchObject({ name: 'InvalidConfigError', message: expect.stringContaining('capacity') })
    await expect(createEdgeMeshNode({ listen: ['nowhere'] })).rejects.toMatchObject({ name: 'InvalidMultiaddrError' })
    await expect(createEdgeMeshNode({ colour: 'red' } as any)).rejects.toMatchObject({ name: 'InvalidConfigError' })
  })

  it('fills defaults from the constants files and starts the node unless told not to', async () => {
    const started = await node()
    expect(started.config).toMatchObject({ capacity: DEFAULT_CAPACITY, maxQueue: DEFAULT_MAX_QUEUE, role: 'edge', preset: 'lan' })
    expect(started.libp2p.status).toBe('started')
    expect(started.services.offload.stats().capacity).toBe(DEFAULT_CAPACITY)
    const idle = await node({ start: false })
    expect(idle.libp2p.status).toBe('stopped')
    await idle.start()
    await idle.start()
    expect(idle.libp2p.status).toBe('started')
  })

  it('gives gossipsub the preset\'s mesh degree, heartbeat and publishing (a bounded cost per report)', async () => {
    for (const preset of ['lan', 'local-test'] as const) {
      const n = await node({ preset, start: false })
      const opts = (n.libp2p.services as Record<string, any>).pubsub.opts
      expect(opts).toMatchObject({ ...PRESETS[preset].pubsubMesh, heartbeatInterval: PRESETS[preset].heartbeatMs, floodPublish: false })
      expect(opts.Dhi).toBeLessThan(6)
    }
  })

  it('adds extra libp2p services next to its own', async () => {
    const n = await node({ libp2p: { transports: [memory()], services: { greeter: () => ({ hello: () => 'hi' }) } } })
    expect((n.libp2p.services as Record<string, any>).greeter.hello()).toBe('hi')
  })
})
