/**
 * The benchmark's separate processes: edge-mesh serving nodes (through
 * `startNodeProcess`, as the integration tests start them) and the echo peer;
 * plus reading a process's resident memory. Everything started here is
 * stopped by `Processes.stopAll()`.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { addressOn, loopbackAddress, startNodeProcess } from '../../src/cli/cluster.js'
import { MODEL_DIR } from './constants.js'
import type { NodeProcess } from '../../src/cli/cluster.js'
import type { ChildProcess } from 'node:child_process'

/** A started echo peer: its process and dialable address (with /p2p/). */
export interface EchoPeer {
  child: ChildProcess
  address: string
}

/** Serving-node settings, as CLI flags. */
export interface ServingOptions {
  capacity: number
  maxQueue?: number
  slowdown?: number
  /** Fixed service time per request, ms (`--simulate-service-ms`). */
  serviceMs?: number
  batching?: boolean
  /** Model folder or packaged model name to serve. @default the example MNIST model */
  model?: string
  /** Run the node through this prefix, e.g. `['taskset', '-c', '1']` to pin it to a core. @default none */
  prefix?: string[]
  /** Extra environment of the process (the memory phase's forced-GC probe). @default none */
  env?: Record<string, string>
}

/** Resident set size of a process from /proc/<pid>/status (Linux), MiB. */
export async function rssMb (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const line = status.split('\n').find(l => l.startsWith('VmRSS:'))
  if (line == null) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(line.split(/\s+/)[1]) / 1024
}

/**
 * Loopback hosts of the benchmark start at `loopbackAddress(HOST_OFFSET)`
 * (127.0.0.102 on Linux), away from the 127.0.0.2.. the test clusters use.
 */
const HOST_OFFSET = 100

export class Processes {
  /** Serving nodes that exited while the benchmark still used them, with the signal they reported. */
  readonly unexpectedExits: string[] = []
  private readonly nodes: NodeProcess[] = []
  private readonly children: ChildProcess[] = []
  private readonly dirs: string[] = []
  private hosts = HOST_OFFSET + 1

  /** Start a serving edge-mesh node with the example model (or `options.model`) on its own loopback address. */
  async serving (name: string, options: ServingOptions): Promise<{ node: NodeProcess, address: string }> {
    const host = loopbackAddress(this.hosts++)
    const dir = await mkdtemp(join(tmpdir(), 'edge-mesh-bench-'))
    this.dirs.push(dir)
    const args = [
      '--name', name, '--preset', 'local-test', '--api-port', '0', '--no-mdns', '--listen', `/ip4/${host}/tcp/0`,
      '--data-dir', dir, '--model', options.model ?? MODEL_DIR, '--capacity', String(options.capacity),
      ...(options.maxQueue != null ? ['--max-queue', String(options.maxQueue)] : []),
      ...(options.slowdown != null ? ['--simulate-slowdown', String(options.slowdown)] : []),
      ...(options.serviceMs != null ? ['--simulate-service-ms', String(options.serviceMs)] : []),
      ...(options.batching === false ? ['--no-batching'] : [])
    ]
    let signal = 'no signal'
    const node = await startNodeProcess({ args, prefix: options.prefix, env: options.env, onEvent: event => { if (event.event === 'stopping') signal = String(event.signal) } })
    this.nodes.push(node)
    void node.exited.then(code => {
      if (!this.nodes.includes(node)) return
      const what = `${name} exited with code ${String(code)} (${signal})`
      this.unexpectedExits.push(what)
      process.stderr.write(`serving node ${what} while in use; last stderr:\n${node.stderr.slice(-20).join('\n')}\n`)
    })
    return { node, address: addressOn(node, host) }
  }

  /** Start the echo peer (`echo-peer.js`) on its own loopback address. */
  async echo (): Promise<EchoPeer> {
    const script = fileURLToPath(new URL('./echo-peer.js', import.meta.url))
    const host = loopbackAddress(this.hosts++)
    const child = spawn(process.execPath, [script, '--listen', `/ip4/${host}/tcp/0`], { stdio: ['ignore', 'pipe', 'inherit'] })
    this.children.push(child)
    const ready = await new Promise<{ addresses: string[] }>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('echo peer did not start in time')) }, 30_000)
      child.once('exit', code => { clearTimeout(timer); reject(new Error(`echo peer exited with ${String(code)}`)) })
      createInterface({ input: child.stdout! }).on('line', line => {
        try {
          const event = JSON.parse(line)
          if (event.event === 'ready') { clearTimeout(timer); resolve(event) }
        } catch {}
      })
    })
    return { child, address: ready.addresses.find(a => a.includes(`/ip4/${host}/`)) ?? ready.addresses[0] }
  }

  /**
   * A process that only burns CPU (a busy loop), run through `prefix` (e.g.
   * `['taskset', '-c', '1']`): beside a node pinned to the same core it takes
   * about half of that core. Stopped by `stopAll()` or by killing the returned child.
   */
  burner (prefix: string[]): ChildProcess {
    const argv = [...prefix, process.execPath, '-e', 'for (;;) {}']
    const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' })
    this.children.push(child)
    return child
  }

  /** Stop one serving node (SIGTERM, then SIGKILL). */
  async stop (node: NodeProcess): Promise<void> {
    this.nodes.splice(this.nodes.indexOf(node), 1)
    await node.stop(5000)
  }

  async stopAll (): Promise<void> {
    const nodes = [...this.nodes]
    this.nodes.length = 0
    await Promise.all(nodes.map(async n => await n.stop(5000)))
    for (const child of this.children) if (child.exitCode == null) child.kill('SIGTERM')
    await Promise.all(this.dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
    this.nodes.length = 0
    this.children.length = 0
    this.dirs.length = 0
  }
}
