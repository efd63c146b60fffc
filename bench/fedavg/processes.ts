/**
 * The benchmark's separate processes: helper scripts of this folder that
 * report readiness with one JSON line (the transfer peer), edge-mesh node
 * processes (through `startNodeProcess`, as the integration tests start
 * them), and their temporary data directories. Everything started here is
 * stopped by `Processes.stopAll()`.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { loopbackAddress, startNodeProcess } from '../../src/cli/cluster.js'
import type { NodeProcess } from '../../src/cli/cluster.js'
import type { ChildProcess } from 'node:child_process'

/** A started helper script: its process and dialable address (with /p2p/). */
export interface Helper {
  child: ChildProcess
  peerId: string
  address: string
}

/** A started edge-mesh node and the directory it keeps its state in. */
export interface StartedNode {
  node: NodeProcess
  host: string
  dataDir: string
}

/** Resident set size (`VmRSS`) and its peak (`VmHWM`) of a process, from /proc/<pid>/status (Linux), MiB. */
export async function memoryOf (pid: number): Promise<{ rssMb: number, hwmMb: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const field = (name: string): number => {
    const line = status.split('\n').find(l => l.startsWith(`${name}:`))
    if (line == null) throw new Error(`no ${name} for pid ${pid}`)
    return Number(line.split(/\s+/)[1]) / 1024
  }
  return { rssMb: field('VmRSS'), hwmMb: field('VmHWM') }
}

export class Processes {
  private readonly nodes: NodeProcess[] = []
  private readonly children: ChildProcess[] = []
  private readonly dirs: string[] = []
  private hosts = 1

  /** A fresh temporary directory, removed by `stopAll()`. */
  async tempDir (prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `edge-mesh-bench-${prefix}-`))
    this.dirs.push(dir)
    return dir
  }

  /** Start `script` (a file of this folder, built) on its own loopback address and wait for its ready line. */
  async helper (script: string): Promise<Helper> {
    const path = fileURLToPath(new URL(`./${script}`, import.meta.url))
    const host = loopbackAddress(this.hosts++)
    const child = spawn(process.execPath, [path, '--listen', `/ip4/${host}/tcp/0`], { stdio: ['ignore', 'pipe', 'inherit'] })
    this.children.push(child)
    const ready = await new Promise<{ peerId: string, addresses: string[] }>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`${script} did not start in time`)) }, 30_000)
      child.once('exit', code => { clearTimeout(timer); reject(new Error(`${script} exited with ${String(code)}`)) })
      createInterface({ input: child.stdout! }).on('line', line => {
        try {
          const event = JSON.parse(line)
          if (event.event === 'ready') { clearTimeout(timer); resolve(event) }
        } catch {}
      })
    })
    return { child, peerId: ready.peerId, address: ready.addresses.find(a => a.includes(`/ip4/${host}/`)) ?? ready.addresses[0] }
  }

  /** Start an edge-mesh node process (`start` or `seed`) with `args` on its own loopback address and data directory. */
  async node (command: 'start' | 'seed', name: string, args: string[]): Promise<StartedNode> {
    const host = loopbackAddress(this.hosts++)
    const dataDir = await this.tempDir(name)
    const node = await startNodeProcess({
      command,
      args: ['--name', name, '--preset', 'local-test', '--api-port', '0', '--no-mdns', '--listen', `/ip4/${host}/tcp/0`, '--data-dir', dataDir, ...args],
      readyTimeoutMs: 90_000
    })
    this.nodes.push(node)
    void node.exited.then(code => {
      if (this.nodes.includes(node)) {
        process.stderr.write(`node ${name} exited unexpectedly (code ${String(code)}); last stderr:\n${node.stderr.slice(-20).join('\n')}\n`)
      }
    })
    return { node, host, dataDir }
  }

  /** Remember a child started elsewhere so `stopAll()` ends it. */
  adopt (child: ChildProcess): void {
    this.children.push(child)
  }

  async stopAll (): Promise<void> {
    const nodes = [...this.nodes]
    this.nodes.length = 0
    await Promise.all(nodes.map(async n => await n.stop(5000)))
    for (const child of this.children) if (child.exitCode == null && child.signalCode == null) child.kill('SIGTERM')
    await Promise.all(this.dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
    this.children.length = 0
    this.dirs.length = 0
  }
}
