/**
 * Starting edge-mesh node processes on this machine: used by `edge-mesh demo`,
 * `experiment --mode mesh`, the integration tests and the benchmarks. Each
 * node is a real child process (`edge-mesh start --log-format json`) that
 * reports readiness with one JSON line on stdout.
 *
 * Children die with their parent: each node gets a pipe from this process as
 * stdin and stops when it closes (parent-watch.ts), and `removeWhenParentDies`
 * removes a cluster's temporary folder even after `kill -9` of this process.
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { platform } from 'node:os'
import { EXIT_WITH_STDIN_ENV } from './parent-watch.js'
import type { ChildProcess } from 'node:child_process'

/** Path of the CLI entry point (this file runs from `src/cli` in tests and from `dist/src/cli` when built). */
export const BIN_PATH = ['../../bin/edge-mesh.js', '../../../bin/edge-mesh.js']
  .map(relative => fileURLToPath(new URL(relative, import.meta.url)))
  .find(path => existsSync(path)) ?? 'edge-mesh'

export interface NodeProcessOptions {
  /** `start` or `seed`. @default 'start' */
  command?: 'start' | 'seed'
  /** Extra CLI arguments. */
  args?: string[]
  /** Extra environment. */
  env?: Record<string, string>
  /** Run through this prefix, e.g. `['ip', 'netns', 'exec', 'ns1']`. */
  prefix?: string[]
  /** Wait this long for readiness, ms. @default 60000 */
  readyTimeoutMs?: number
  /** Called with every JSON event line the node prints. */
  onEvent?(event: Record<string, any>): void
  /** Called with every stderr line. */
  onStderr?(line: string): void
  /** Told the child's pid, so it can wait for the child before removing the cluster's folder. */
  watchdog?: TempDirWatchdog
}

export interface NodeProcess {
  readonly child: ChildProcess
  readonly peerId: string
  readonly apiUrl: string
  readonly addresses: string[]
  readonly ready: Record<string, any>
  /** The API's bearer token, when the node requires one (read from the file its ready event names). */
  readonly apiToken?: string
  /** stderr lines so far (for diagnostics). */
  readonly stderr: string[]
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>
  /** SIGKILL at once (a crash). */
  kill(): Promise<number | null>
  /** Resolves when the process exits. */
  exited: Promise<number | null>
}

/** The loopback address to give node `index` of a local cluster (distinct on Linux, 127.0.0.1 elsewhere). */
export function loopbackAddress (index: number): string {
  return platform() === 'linux' ? `127.0.0.${2 + (index % 250)}` : '127.0.0.1'
}

export async function startNodeProcess (options: NodeProcessOptions = {}): Promise<NodeProcess> {
  const prefix = options.prefix ?? []
  const argv = [...prefix, process.execPath, BIN_PATH, options.command ?? 'start', '--log-format', 'json', ...(options.args ?? [])]
  // stdin is a pipe nothing is written to: it closes when this process dies, and the node stops (parent-watch.ts).
  const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...options.env, [EXIT_WITH_STDIN_ENV]: '1' }, stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdin?.on('error', () => {})
  if (child.pid != null) options.watchdog?.watch(child.pid)
  const stderr: string[] = []
  const exited = new Promise<number | null>(resolve => { child.once('exit', (code, signal) => { resolve(code ?? (signal != null ? -1 : null)) }) })
  createInterface({ input: child.stderr! }).on('line', line => {
    if (stderr.length < 500) stderr.push(line)
    options.onStderr?.(line)
  })
  const ready = await new Promise<Record<string, any>>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`node did not become ready in time; stderr: ${stderr.join('\n')}`)) }, options.readyTimeoutMs ?? 60_000)
    createInterface({ input: child.stdout! }).on('line', line => {
      let event: Record<string, any>
      try { event = JSON.parse(line) } catch { return }
      options.onEvent?.(event)
      if (event.event === 'ready') { clearTimeout(timer); resolve(event) }
    })
    void exited.then(code => { clearTimeout(timer); reject(new Error(`node exited with code ${String(code)} before it was ready: ${stderr.join('\n')}`)) })
  })
  const stop = async (graceMs = 10_000): Promise<number | null> => {
    if (child.exitCode != null || child.signalCode != null) return await exited
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    const code = await exited
    clearTimeout(timer)
    return code
  }
  const kill = async (): Promise<number | null> => {
    if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL')
    return await exited
  }
  // From the file the node names, else the variable it inherited (a node given EDGE_MESH_API_TOKEN requires it).
  const inherited = options.env?.EDGE_MESH_API_TOKEN ?? process.env.EDGE_MESH_API_TOKEN
  const apiToken = typeof ready.apiTokenFile === 'string' ? readFileSync(ready.apiTokenFile, 'utf8').trim() : (inherited === '' ? undefined : inherited)
  return { child, peerId: ready.peerId, apiUrl: ready.apiUrl, addresses: ready.addresses, ready, apiToken, stderr, stop, kill, exited }
}

/** Headers that authenticate to `node`'s control API (none when it needs no token). */
export function apiHeaders (node: Pick<NodeProcess, 'apiToken'>): Record<string, string> {
  return node.apiToken == null ? {} : { authorization: `Bearer ${node.apiToken}` }
}

/** Pick the address of `node` that is on the given host (e.g. its loopback address). */
export function addressOn (node: Pick<NodeProcess, 'addresses'>, host: string): string {
  return node.addresses.find(a => a.includes(`/ip4/${host}/`)) ?? node.addresses[0]
}

/** A watchdog process that removes a folder once this process and the children it was told about are gone. */
export interface TempDirWatchdog {
  /** Wait for this child too before removing the folder. */
  watch(pid: number): void
}

/** Path of the watchdog script next to this file (built: `dist/src/cli`). */
const WATCHDOG_PATH = fileURLToPath(new URL('./temp-dir-watchdog.js', import.meta.url))

/**
 * Start a watchdog that removes `dir` when this process exits, however it
 * exits (`kill -9` included), after the children passed to `watch` have
 * stopped. It is detached and unreferenced, so it neither keeps this process
 * alive nor dies with its process group.
 */
export function removeWhenParentDies (dir: string): TempDirWatchdog {
  const child = spawn(process.execPath, [WATCHDOG_PATH, dir], { stdio: ['pipe', 'ignore', 'ignore'], detached: true })
  child.on('error', () => {})
  child.stdin?.on('error', () => {})
  child.unref()
  const stdin = child.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null
  stdin?.unref?.()
  return { watch: (pid) => { stdin?.write(`${pid}\n`) } }
}
