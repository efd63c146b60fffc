/**
 * `edge-mesh demo`: one command, N nodes that show the product (offload to
 * idle peers, a federated run, the whole mesh in every node's reports), all
 * stopped cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { describe, expect, it } from 'vitest'
import { BIN_PATH } from '../../src/cli/cluster.js'
import { getJson, metric, waitFor } from '../fixtures/index.js'

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

describe('edge-mesh demo', () => {
  it('offloads part of node-1\'s bursts to idle peers, completes a federated round, and stops every child on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN_PATH, 'demo', '--nodes', '3', '--rounds', '2'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const lines: string[] = []
    createInterface({ input: child.stdout }).on('line', l => lines.push(l))
    const exited = new Promise<number | null>(resolve => child.on('exit', code => { resolve(code) }))
    try {
      const urls = await waitFor('the demo table', () => {
        const found = lines.flatMap(l => l.match(/http:\/\/127\.0\.0\.1:\d+/g) ?? [])
        return lines.some(l => l.includes('Ctrl-C')) && found.length >= 3 ? [...new Set(found)] : undefined
      }, 120_000)
      const peerIds = [...new Set(lines.flatMap(l => l.match(/12D3KooW[1-9A-HJ-NP-Za-km-z]+/g) ?? []))]
      expect(peerIds).toHaveLength(3)
      const node1 = { apiUrl: urls[0] }

      // Offload: node-1's own requests served by peers, counted by node-1 and printed by the demo.
      await waitFor('requests node-1 sent to idle peers', async () => await metric(node1, 'edge_mesh_infer_served_total{where="remote"}') > 0, 120_000, 500)
      await waitFor('a traffic line with requests served by peers', () => lines.some(l => /traffic to node-1: .* [1-9]\d* by idle peers/.test(l)), 60_000)

      // The whole mesh from node-1: node-2's report lists node-3 as a neighbour, and carries node-2's traffic counters.
      await waitFor('a link between two other nodes, seen from node-1', async () => {
        const s = await getJson(`${urls[0]}/status`)
        const node2 = s.peers.find((p: any) => p.peerId === peerIds[1])
        return node2?.load?.neighbours?.includes(peerIds[2]) === true && node2.load.traffic.servedForPeers >= 0
      }, 60_000, 500)

      // Federated: the run the demo started on node-1 completes a round.
      const run = await waitFor('a completed federated round', async () => {
        const runs = await getJson(`${urls[0]}/federated/runs`)
        return (Array.isArray(runs) ? runs : runs.runs ?? []).find((r: any) => r.completedRounds >= 1)
      }, 240_000, 1000)
      expect(run.history[0].participants).toBeGreaterThanOrEqual(2)
      await waitFor('the round printed', () => lines.some(l => /federated run .*: round 1\/2/.test(l)), 30_000)

      const pids = (await Promise.all(urls.map(async u => (await getJson(`${u}/status`)).pid as number | undefined)))
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(lines.some(l => l.includes('all nodes stopped'))).toBe(true)
      for (const u of urls) await expect(fetch(`${u}/status`)).rejects.toThrow()
      for (const pid of pids) if (pid != null) expect(alive(pid)).toBe(false)
    } finally {
      if (child.exitCode == null) child.kill('SIGKILL')
    }
  }, 420_000)
})
