/**
 * The federated part of `edge-mesh demo`: every demo node holds one shard of
 * the `mnist` package's digits (`--data mnist:<i>/<N>`), and once the mesh has
 * formed the demo starts a short FedAvg run on node-1, then prints one line per
 * completed round until the run ends or the demo stops.
 */
import { apiHeaders } from './cluster.js'
import type { NodeProcess } from './cluster.js'

/** Rounds of the demo's run (`--rounds`). */
export const DEMO_ROUNDS = 5
/** How long the demo waits for every node to see every other before it starts the run, ms. */
export const DEMO_MESH_WAIT_MS = 60_000
/** How often the demo polls the mesh and the run, ms. */
export const DEMO_POLL_MS = 1000

/** The data shard of demo node `index` of `count`. */
export function demoDataSpec (index: number, count: number): string {
  return `mnist:${index}/${count}`
}

export interface DemoRunOptions {
  nodes: NodeProcess[]
  rounds?: number
  print(line: string): void
  /** True once the demo is stopping: polling ends. */
  stopped(): boolean
}

async function api (node: NodeProcess, path: string, init: { method?: string, body?: unknown } = {}): Promise<any> {
  const res = await fetch(`${node.apiUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(init.body != null ? { 'content-type': 'application/json' } : {}), ...apiHeaders(node) },
    body: init.body != null ? JSON.stringify(init.body) : undefined,
    signal: AbortSignal.timeout(10_000)
  })
  const json: any = await res.json()
  if (!res.ok) throw new Error(`${String(json?.error?.name ?? res.status)}: ${String(json?.error?.message ?? '')}`)
  return json
}

async function pause (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Poll until node-1 holds a load report of every other node that says it can train; false after `DEMO_MESH_WAIT_MS` or when stopped. */
async function meshFormed (options: DemoRunOptions): Promise<boolean> {
  const deadline = Date.now() + DEMO_MESH_WAIT_MS
  while (!options.stopped() && Date.now() < deadline) {
    const status = await api(options.nodes[0], '/status').catch(() => undefined)
    const trainers = (status?.peers ?? []).filter((p: any) => p.load?.canTrain === true).length
    if (trainers >= options.nodes.length - 1) return true
    await pause(DEMO_POLL_MS)
  }
  return false
}

function roundLine (run: any, round: any): string {
  const accuracy = Number.isFinite(round.accuracy) ? `${(round.accuracy * 100).toFixed(1)} %` : '–'
  const loss = Number.isFinite(round.loss) ? round.loss.toFixed(3) : '–'
  return `federated run ${String(run.id).slice(0, 8)}: round ${String(round.round)}/${String(run.rounds)} · accuracy ${accuracy} · loss ${loss} · ${String(round.participants)} participants`
}

/** Start the run on node-1 once the mesh has formed and follow it. Never throws: problems are printed. */
export async function runDemoFederated (options: DemoRunOptions): Promise<void> {
  const coordinator = options.nodes[0]
  try {
    if (!await meshFormed(options)) {
      if (!options.stopped()) options.print('federated run not started: the nodes did not all report training data in time')
      return
    }
    const count = options.nodes.length
    const spec = { rounds: options.rounds ?? DEMO_ROUNDS, strategy: 'fedavg', fraction: 1, minParticipants: count, waitForClients: count, epochs: 1, batchSize: 32, learningRate: 0.1, seed: 1 }
    const { id } = await api(coordinator, '/federated/runs', { method: 'POST', body: spec })
    options.print(`federated run ${String(id).slice(0, 8)} started on node-1: FedAvg over ${count} MNIST shards, ${spec.rounds} rounds (dashboard: Federated learning)`)
    let shown = 0
    while (!options.stopped()) {
      const run = await api(coordinator, `/federated/runs/${encodeURIComponent(id)}`).catch(() => undefined)
      for (const round of (run?.history ?? []).slice(shown)) options.print(roundLine(run, round))
      shown = run?.history?.length ?? shown
      if (run != null && run.state !== 'running') {
        options.print(`federated run ${String(id).slice(0, 8)} ${String(run.state)}${run.error != null ? `: ${String(run.error.name)}: ${String(run.error.message)}` : `; global model ${String(run.globalModelId)}`}`)
        return
      }
      await pause(DEMO_POLL_MS)
    }
  } catch (err: any) {
    if (!options.stopped()) options.print(`federated run not started: ${String(err?.message ?? err)}`)
  }
}
