/**
 * `edge-mesh demo --nodes N`: a laptop cluster in one command. Starts N node
 * processes on this machine (the first bootstraps the others over loopback),
 * prints each node's peer id and control API, and stops every child cleanly on
 * Ctrl-C or SIGTERM.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { intFlag, parseFlags } from '../args.js'
import { BIN_PATH, addressOn, loopbackAddress, removeWhenParentDies, startNodeProcess } from '../cluster.js'
import { table } from '../output.js'
import { startDemoTraffic } from '../demo-traffic.js'
import { existsSync } from 'node:fs'
import { dirname } from 'node:path'

/** The repository (or installed package) root, where examples/ lives. */
const REPO_ROOT = dirname(dirname(BIN_PATH))
const EXAMPLE_MODEL = 'examples/models/mnist-mlp'
import type { NodeProcess } from '../cluster.js'

export const DEMO_HELP = `Usage: edge-mesh demo [--nodes N] [options]
Start a laptop cluster of N nodes on this machine and keep it running until Ctrl-C.
  --nodes <n>          number of nodes (3)
  --model <dir>        model every node serves, repeatable (examples/models/mnist-mlp when present)
  --mdns               also discover by mDNS on the LAN (off: the nodes bootstrap from node-1 over loopback)
  --data-dir <dir>     keep the nodes' data here (a temporary folder, removed on exit)
  --preset <name>      timing preset for the nodes (local-test)
  --no-traffic         do not send example inference traffic`

export async function runDemo (argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    nodes: { type: 'string' }, model: { type: 'string', multiple: true }, mdns: { type: 'boolean' },
    'data-dir': { type: 'string' }, preset: { type: 'string' }, traffic: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }
  })
  if (values.help === true) { process.stdout.write(DEMO_HELP + '\n'); return }
  const count = intFlag('nodes', values.nodes, 1, 64) ?? 3
  const models: string[] = values.model ?? (existsSync(join(REPO_ROOT, EXAMPLE_MODEL)) ? [join(REPO_ROOT, EXAMPLE_MODEL)] : [])
  const keepData = values['data-dir'] != null
  const root = values['data-dir'] ?? await mkdtemp(join(tmpdir(), 'edge-mesh-demo-'))
  // Removes the temporary folder even if this process is killed with -9 (the nodes stop by themselves then).
  const watchdog = keepData ? undefined : removeWhenParentDies(root)
  const nodes: NodeProcess[] = []
  let stopping = false

  const stopAll = async (signal: string): Promise<void> => {
    if (stopping) return
    stopping = true
    process.stdout.write(`\nstopping ${nodes.length} nodes (${signal})…\n`)
    await Promise.all(nodes.map(async n => await n.stop()))
    if (!keepData) await rm(root, { recursive: true, force: true })
    process.stdout.write('all nodes stopped\n')
  }
  const done = new Promise<void>(resolve => {
    const onSignal = (signal: string): void => { void stopAll(signal).then(resolve) }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })

  process.stdout.write(`starting ${count} nodes (data in ${root})…\n`)
  try {
    for (let i = 0; i < count; i++) {
      const host = loopbackAddress(i)
      const args = [
        '--name', `node-${i + 1}`, '--preset', values.preset ?? 'local-test', '--api-port', '0',
        '--listen', `/ip4/${host}/tcp/0`, '--data-dir', join(root, `node-${i + 1}`),
        ...(values.mdns === true ? [] : ['--no-mdns']),
        ...(i > 0 ? ['--bootstrap', addressOn(nodes[0], loopbackAddress(0))] : []),
        ...models.flatMap((m: string) => ['--model', m])
      ]
      const node = await startNodeProcess({ args, watchdog, onStderr: line => { process.stderr.write(`[node-${i + 1}] ${line}\n`) } })
      nodes.push(node)
      if (stopping) break
    }
  } catch (err) {
    await stopAll('start failure')
    throw err
  }
  process.stdout.write('\n' + table(['NODE', 'PEER ID', 'CONTROL API / DASHBOARD'], nodes.map((n, i) => [`node-${i + 1}`, n.peerId, n.apiUrl])) + '\n')
  process.stdout.write(`\nstatus of the mesh: edge-mesh status --api ${nodes[0].apiUrl}\ndashboard: open ${nodes[0].apiUrl}/ in a browser\n`)
  let stopTraffic = (): void => {}
  const modelId = (await (await fetch(`${nodes[0].apiUrl}/status`)).json() as any).models?.[0]?.id
  if (values.traffic !== false && modelId != null && existsSync(join(REPO_ROOT, 'examples/inputs/mnist-digit-7.json'))) {
    process.stdout.write(`sending example inference traffic for ${modelId as string} (--no-traffic to stop it)\n`)
    stopTraffic = startDemoTraffic({ nodes, modelId, inputsDir: join(REPO_ROOT, 'examples/inputs'), print: line => { if (!stopping) process.stdout.write(line + '\n') } })
  }
  process.stdout.write('Press Ctrl-C to stop all nodes.\n')
  await done
  stopTraffic()
}
