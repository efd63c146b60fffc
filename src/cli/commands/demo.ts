/**
 * `edge-mesh demo --nodes N`: a laptop cluster in one command. Starts N node
 * processes on this machine (the first bootstraps the others over loopback),
 * each holding a shard of MNIST, prints each node's peer id and control API,
 * then shows the product: inference bursts at node-1 (made a slower device)
 * that it offloads in part to idle peers, and a short federated run once the
 * mesh has formed. Stops every child cleanly on Ctrl-C or SIGTERM.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { intFlag, parseFlags } from '../args.js'
import { BIN_PATH, addressOn, loopbackAddress, removeWhenParentDies, startNodeProcess } from '../cluster.js'
import { table } from '../output.js'
import { startDemoTraffic } from '../demo-traffic.js'
import { DEMO_ROUNDS, demoDataSpec, runDemoFederated } from '../demo-federated.js'
import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import type { NodeProcess } from '../cluster.js'

/** The repository (or installed package) root, where examples/ lives. */
const REPO_ROOT = dirname(dirname(BIN_PATH))
const EXAMPLE_MODEL = 'examples/models/mnist-mlp'
/** node-1's emulated service time per inference, ms (`--slow-ms`): a slower device, so the demo's bursts overflow it. */
export const DEMO_SLOW_MS = 20

export const DEMO_HELP = `Usage: edge-mesh demo [--nodes N] [options]
Start a laptop cluster of N nodes on this machine and keep it running until Ctrl-C.
node-1, a slower device, gets bursts of inference requests and hands what it cannot
take to idle peers; every node holds a shard of MNIST, and a short federated run
starts on node-1 once the mesh has formed. Open node-1's dashboard to watch both.
  --nodes <n>          number of nodes (3)
  --model <dir>        model every node serves, repeatable (examples/models/mnist-mlp when present)
  --mdns               also discover by mDNS on the LAN (off: the nodes bootstrap from node-1 over loopback)
  --data-dir <dir>     keep the nodes' data here (a temporary folder, removed on exit)
  --preset <name>      timing preset for the nodes (local-test)
  --slow-ms <ms>       node-1 emulates a slower device: at least this long per inference (${DEMO_SLOW_MS}; 0: native speed)
  --rounds <n>         rounds of the demo's federated run (${DEMO_ROUNDS})
  --no-traffic         do not send example inference traffic (bursts of 16 requests a second at node-1)
  --no-train           give the nodes no MNIST shards and start no federated run`

export async function runDemo (argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    nodes: { type: 'string' }, model: { type: 'string', multiple: true }, mdns: { type: 'boolean' },
    'data-dir': { type: 'string' }, preset: { type: 'string' }, traffic: { type: 'boolean' }, train: { type: 'boolean' },
    'slow-ms': { type: 'string' }, rounds: { type: 'string' }, help: { type: 'boolean', short: 'h' }
  })
  if (values.help === true) { process.stdout.write(DEMO_HELP + '\n'); return }
  const count = intFlag('nodes', values.nodes, 1, 64) ?? 3
  const slowMs = intFlag('slow-ms', values['slow-ms'], 0, 60_000) ?? DEMO_SLOW_MS
  const rounds = intFlag('rounds', values.rounds, 1, 1000) ?? DEMO_ROUNDS
  const train = values.train !== false && count >= 2
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
        ...(i === 0 && slowMs > 0 ? ['--simulate-service-ms', String(slowMs)] : []),
        ...(train ? ['--data', demoDataSpec(i, count)] : []),
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
  const print = (line: string): void => { if (!stopping) process.stdout.write(line + '\n') }
  let stopTraffic = (): void => {}
  const modelId = (await (await fetch(`${nodes[0].apiUrl}/status`)).json() as any).models?.[0]?.id
  if (values.traffic !== false && modelId != null && existsSync(join(REPO_ROOT, 'examples/inputs/mnist-digit-7.json'))) {
    const slow = slowMs > 0 ? `, a slower device (${slowMs} ms per inference),` : ''
    process.stdout.write(`sending bursts of inference requests for ${modelId as string} to node-1${slow} which hands what it cannot take to idle peers (--no-traffic to stop it)\n`)
    stopTraffic = startDemoTraffic({ nodes, modelId, inputsDir: join(REPO_ROOT, 'examples/inputs'), print })
  }
  if (train) void runDemoFederated({ nodes, rounds, print, stopped: () => stopping })
  process.stdout.write('Press Ctrl-C to stop all nodes.\n')
  await done
  stopTraffic()
}
