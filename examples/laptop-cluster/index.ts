/**
 * A laptop cluster from code: three edge-mesh nodes in this process, each on
 * its own loopback address, joined through the first one. The example waits
 * until every node sees the others' load, asks node 3 (which has no model)
 * for an inference that the mesh serves elsewhere, prints who did what, and
 * stops the nodes.
 *
 *   npx tsc -p . && npx node dist/examples/laptop-cluster/index.js
 *
 * For separate processes (one per device) use the CLI instead:
 * `npx edge-mesh demo --nodes 3`, or `edge-mesh start` on each device.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loopbackAddress } from '../../src/cli/cluster.js'
import { createEdgeMeshNode, tensor } from '../../src/index.js'
import type { EdgeMeshNode } from '../../src/index.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const modelDir = join(root, 'examples/models/mnist-mlp')
const digit = JSON.parse(await readFile(join(root, 'examples/inputs/mnist-digit-7.json'), 'utf8'))
const dataRoot = await mkdtemp(join(tmpdir(), 'edge-mesh-laptop-'))
const nodes: EdgeMeshNode[] = []

async function until (what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

try {
  for (let i = 0; i < 3; i++) {
    const node = await createEdgeMeshNode({
      name: `laptop-${i + 1}`,
      preset: 'local-test',
      mdns: false,
      apiPort: 0,
      listen: [`/ip4/${loopbackAddress(i)}/tcp/0`],
      bootstrap: i === 0 ? [] : [nodes[0].addresses()[0]],
      dataDir: join(dataRoot, `laptop-${i + 1}`),
      models: i < 2 ? [modelDir] : []
    })
    nodes.push(node)
    console.log(`laptop-${i + 1}: ${node.peerId} (control API ${node.apiUrl})`)
  }

  await until('every node sees the other two', () => nodes.every(n => n.services.loadView.peers().length >= 2))
  for (const node of nodes) {
    const peers = node.services.loadView.peers().map(p => `${p.report.name} (${p.report.models.length} models, cpu ${(p.report.cpu * 100).toFixed(0)}%)`)
    console.log(`${node.config.name} sees: ${peers.join(', ')}`)
  }

  const modelId = nodes[0].services.models.list()[0].id
  const result = await nodes[2].infer(modelId, tensor(digit), { deadlineMs: 10_000 })
  const scores = Array.from(result.outputs[0].data)
  const served = nodes.find(n => n.peerId === result.servedBy)?.config.name ?? result.servedBy
  console.log(`laptop-3 asked for digit 7: class ${scores.indexOf(Math.max(...scores))}, served by ${served} in ${result.latencyMs.totalMs.toFixed(1)} ms after ${result.attempts} attempt(s)`)
} finally {
  await Promise.all(nodes.map(async n => { await n.stop() }))
  await rm(dataRoot, { recursive: true, force: true })
}
