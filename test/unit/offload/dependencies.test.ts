/**
 * Services declare what they need (serviceDependencies) and provide
 * (serviceCapabilities): a node missing a collaborator fails at creation,
 * naming it, instead of failing on first use.
 */
import { serviceCapabilities } from '@libp2p/interface'
import { createLibp2p } from 'libp2p'
import { describe, expect, it } from 'vitest'
import { CAPABILITY } from '../../../src/capabilities.js'
import { localLoad } from '../../../src/gossip/index.js'
import { models } from '../../../src/model/index.js'
import { modelTransfer } from '../../../src/model-transfer/index.js'
import { offload } from '../../../src/offload/index.js'

/** A load view without gossipsub: provides the capability, knows no peers. */
function loadView (): () => unknown {
  return () => ({
    [serviceCapabilities]: [CAPABILITY.loadView],
    peers: () => [],
    get: () => undefined,
    self: () => undefined,
    addEventListener: () => {},
    removeEventListener: () => {}
  })
}

describe('service dependencies', () => {
  it('a node with offload but no model transfer fails at creation, naming the capability', async () => {
    const created = createLibp2p({
      start: false,
      services: { models: models(), localLoad: localLoad(), loadView: loadView(), offload: offload() as any }
    })
    await expect(created).rejects.toMatchObject({ name: 'UnmetServiceDependenciesError', message: expect.stringContaining(CAPABILITY.modelTransfer) })
  })

  it('a node with every collaborator is created', async () => {
    const node = await createLibp2p({
      start: false,
      services: { models: models(), localLoad: localLoad(), loadView: loadView(), modelTransfer: modelTransfer() as any, offload: offload() as any }
    })
    expect(node.services.offload).toBeDefined()
    await node.stop()
  })
})
