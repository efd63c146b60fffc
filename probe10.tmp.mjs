// B spawned by hand with extra node flags, stdout (trace-gc) to a file; A in-process; remote-only bursts.
import { spawn } from 'node:child_process'
import { createWriteStream, mkdtempSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { multiaddr } from '@multiformats/multiaddr'
import { startInProcessNode, waitForPeers } from '/work/main/dist/bench/offload/driver.js'
import { benchInputs } from '/work/main/dist/bench/models/inputs.js'
import { pinSelf } from '/work/main/dist/bench/models/placement.js'
const name = process.argv[2] ?? 'nsfwjs:mobilenet_v2'
const flags = (process.env.B_FLAGS ?? '').split(' ').filter(Boolean)
const unpin = pinSelf('one-core-each', 0)
const dir = mkdtempSync('/tmp/edge-mesh-probe-')
const out = createWriteStream('/tmp/tr/b-stdout.log')
const b = spawn('taskset', ['-c', '1', process.execPath, ...flags, '/work/main/bin/edge-mesh.js', 'start', '--log-format', 'json', '--name', 'probe-b', '--preset', 'local-test', '--api-port', '0', '--no-mdns', '--listen', '/ip4/127.0.0.150/tcp/0', '--data-dir', dir, '--model', name, '--capacity', '1', '--max-queue', '256'], { stdio: ['ignore', 'pipe', 'inherit'] })
const ready = await new Promise((resolve) => { createInterface({ input: b.stdout }).on('line', (l) => { out.write(l + '\n'); try { const e = JSON.parse(l); if (e.event === 'ready') resolve(e) } catch {} }) })
const a = await startInProcessNode({ models: [name], hedging: false, capacity: 1, maxQueue: 256, peers: [] })
const model = a.libp2p.services.models.list()[0]
const inputs = benchInputs(model)
const addr = ready.addresses.find(x => x.includes('127.0.0.150'))
await a.libp2p.dial(multiaddr(addr))
await waitForPeers(a, [ready.peerId], 60000, model.id)
for (let i = 0; i < 5; i++) await a.offload.infer(model.id, inputs, { prefer: 'remote', deadlineMs: 120000 })
out.write('=== MEASURE START\n')
const med = (xs) => { const s = [...xs].sort((x, y) => x - y); return s[(s.length - 1) >> 1] }
for (const conc of [6, 6]) {
  const t0 = performance.now(); let next = 0; const ms = []
  await Promise.all(Array.from({ length: conc }, async () => { while (next++ < 100) { const r = await a.offload.infer(model.id, inputs, { prefer: 'remote', deadlineMs: 120000 }); ms.push(r.latencyMs.computeMs) } }))
  console.log(JSON.stringify({ conc, msPerRequest: ((performance.now() - t0) / 100).toFixed(1), engineP50: med(ms).toFixed(1) }))
}
out.write('=== MEASURE END\n')
await a.stop(); b.kill('SIGTERM'); unpin(); setTimeout(() => process.exit(0), 500)
