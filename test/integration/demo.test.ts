/** `edge-mesh demo`: one command, N nodes, all stopped cleanly on SIGTERM. */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { describe, expect, it } from 'vitest'
import { BIN_PATH } from '../../src/cli/cluster.js'
import { getJson, waitFor } from '../fixtures/index.js'

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

describe('edge-mesh demo', () => {
  it('starts 3 connected nodes and stops every child on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN_PATH, 'demo', '--nodes', '3', '--no-traffic'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const lines: string[] = []
    createInterface({ input: child.stdout }).on('line', l => lines.push(l))
    const exited = new Promise<number | null>(resolve => child.on('exit', code => { resolve(code) }))
    try {
      const urls = await waitFor('the demo table', () => {
        const found = lines.flatMap(l => l.match(/http:\/\/127\.0\.0\.1:\d+/g) ?? [])
        return lines.some(l => l.includes('Ctrl-C')) && found.length >= 3 ? [...new Set(found)] : undefined
      }, 120_000)
      const peerIds = lines.flatMap(l => l.match(/12D3KooW[1-9A-HJ-NP-Za-km-z]+/g) ?? [])
      expect(new Set(peerIds).size).toBeGreaterThanOrEqual(3)
      await waitFor('nodes see each other', async () => {
        const s = await getJson(`${urls[0]}/status`)
        return s.peers.filter((p: any) => p.connected).length >= 2
      })
      const pids = (await Promise.all(urls.map(async u => (await getJson(`${u}/status`)).pid as number | undefined)))
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(lines.some(l => l.includes('all nodes stopped'))).toBe(true)
      for (const u of urls) await expect(fetch(`${u}/status`)).rejects.toThrow()
      for (const pid of pids) if (pid != null) expect(alive(pid)).toBe(false)
    } finally {
      if (child.exitCode == null) child.kill('SIGKILL')
    }
  })
})
