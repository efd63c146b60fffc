/**
 * Zero-configuration discovery: three nodes, each on its own test host
 * (network namespace) on one bridge, no bootstrap list, find each other by mDNS.
 * The namespaces keep the multicast on the test's own bridge.
 */
import { afterAll, beforeAll, describe, it } from 'vitest'
import { startNodeProcess } from '../../src/cli/cluster.js'
import { TestCluster, status, waitFor } from '../fixtures/index.js'
import { createTestNetwork, netnsUnavailable } from '../fixtures/netns.js'
import type { NodeProcess } from '../fixtures/index.js'
import type { TestNetwork } from '../fixtures/netns.js'

const unavailable = netnsUnavailable()
if (unavailable != null) process.stderr.write(`skipping mDNS test: ${unavailable}\n`)

describe.skipIf(unavailable != null)('mDNS discovery on a LAN', () => {
  const cluster = new TestCluster()
  let net: TestNetwork
  const nodes: NodeProcess[] = []

  beforeAll(async () => {
    net = createTestNetwork(3)
    for (const [i, host] of net.hosts.entries()) {
      const dir = await cluster.dir()
      nodes.push(await startNodeProcess({
        prefix: host.prefix,
        args: ['--name', `lan-${i + 1}`, '--preset', 'local-test', '--listen', `/ip4/${host.ip}/tcp/4010`, '--api-host', host.ip, '--api-port', '7373', '--data-dir', dir]
      }))
    }
  })
  afterAll(async () => {
    await Promise.all(nodes.map(async n => await n.kill()))
    await cluster.cleanup()
    net?.destroy()
  })

  it('three nodes with no configuration find and connect to each other', async () => {
    for (const node of nodes) {
      const others = nodes.filter(n => n !== node).map(n => n.peerId)
      await waitFor('mDNS discovery', async () => {
        const s = await status(node)
        return others.every(id => s.peers.some(p => p.peerId === id && p.connected && p.load != null))
      })
    }
  })
})
