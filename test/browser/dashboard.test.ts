/**
 * The live dashboard as a person sees it: four real node processes on
 * loopback (node-2 to node-4 bootstrap from node-1 and find each other through
 * gossip), node-1's page open in headless Chromium. Needs Debian's chromium at
 * /usr/bin/chromium (`apt-get install -y chromium`); skipped with a message
 * otherwise. The README's screenshot comes from demo.test.ts (`npm start`).
 *
 * Every service the page shows (models, offload, federated) must be present:
 * a node without one fails these tests rather than skipping them.
 */
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestCluster, addressOn, loopbackAddress, status, waitFor } from '../fixtures/index.js'
import { STUB_SELF, startStubApi, stubReport, stubRound, stubState } from '../fixtures/stub-api.js'
import { CHROMIUM, CHROMIUM_ARGS, HAS_CHROMIUM, VIEWPORT, linksBeyond, numberOf, repo } from './chromium.js'
import type { NodeProcess } from '../fixtures/index.js'
import type { ControlApi } from '../../src/api/index.js'
import type { RunSummary } from '../../src/federated/mesh/service-types.js'
import type { Browser, Page } from 'playwright-core'

const MODEL_DIR = repo('examples/models/mnist-mlp')
const SCREENSHOT = repo('test-results/dashboard-mesh.png')
/** Training data for node-2 to node-4 (shards 1 to 3 of 4 are valid whether shards count from 0 or 1). */
const TRAINING_DATA = ['mnist:1/4', 'mnist:2/4', 'mnist:3/4']
const FED_ROUNDS = 3

describe.skipIf(!HAS_CHROMIUM)('the live dashboard in headless Chromium', () => {
  const cluster = new TestCluster()
  const nodes: NodeProcess[] = []
  const requests: string[] = []
  const pageErrors: string[] = []
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    const model = ['--model', MODEL_DIR]
    nodes.push(await cluster.start('node-1', model))
    const bootstrap = addressOn(nodes[0], loopbackAddress(0))
    for (const [i, data] of TRAINING_DATA.entries()) {
      nodes.push(await cluster.start(`node-${i + 2}`, ['--bootstrap', bootstrap, ...model, '--data', data]))
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
    page = await browser.newPage({ viewport: VIEWPORT })
    page.on('request', req => { requests.push(req.url()) })
    page.on('pageerror', err => { pageErrors.push(err.message) })
    page.on('console', msg => { if (msg.type() === 'error') pageErrors.push(msg.text()) })
    await page.goto(nodes[0].apiUrl)
  })

  afterAll(async () => {
    await browser?.close()
    await cluster.cleanup()
  })

  it('serves the page, its assets and a snapshot stream from the node', async () => {
    const res = await fetch(`${nodes[0].apiUrl}/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/html')
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect((await fetch(`${nodes[0].apiUrl}/dashboard/dashboard.js`)).status).toBe(200)
    expect((await fetch(`${nodes[0].apiUrl}/dashboard/missing.js`)).status).toBe(404)

    const controller = new AbortController()
    const events = await fetch(`${nodes[0].apiUrl}/events`, { signal: controller.signal })
    expect(events.headers.get('content-type')).toContain('text/event-stream')
    const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader()
    let text = ''
    let frame: RegExpExecArray | null = null
    while ((frame = /event: snapshot\ndata: (.*)\n\n/.exec(text)) == null) text += (await reader.read()).value ?? ''
    controller.abort()
    const snapshot = JSON.parse(frame[1])
    expect(snapshot.status.peerId).toBe(nodes[0].peerId)
    expect(snapshot).toHaveProperty('offload')
    expect(Array.isArray(snapshot.federated)).toBe(true)
    expect(snapshot.topology.nodes[0].id).toBe(nodes[0].peerId)
  })

  it('shows this node and lists the other three as connected, in one fleet table', async () => {
    await page.waitForFunction(() => Number(document.body.dataset.snapshots) > 0)
    expect(await page.locator('#node-peer-id').textContent()).toBe(nodes[0].peerId)
    expect(await page.locator('#node-name').textContent()).toBe('node-1')
    for (const other of nodes.slice(1)) {
      await page.locator(`#peer-table tr[data-peer-id="${other.peerId}"][data-connected="true"]`).waitFor({ timeout: 60_000 })
      const row = page.locator(`#peer-table tr[data-peer-id="${other.peerId}"]`)
      await expect.poll(async () => await row.locator('td[data-field="memFree"]').textContent(), { timeout: 30_000 }).not.toBe('–')
    }
    expect(await page.locator('#peer-table tbody tr[data-peer-id]').count()).toBe(4)
    expect(await page.locator('#peer-table tbody tr[data-self="true"]').getAttribute('data-peer-id')).toBe(nodes[0].peerId)
  })

  it('updates the peers\' load live', async () => {
    for (const other of nodes.slice(1)) {
      const row = page.locator(`#peer-table tbody tr[data-peer-id="${other.peerId}"]`)
      const seq = Number(await row.getAttribute('data-seq'))
      const age = await row.locator('td[data-field="age"]').textContent()
      await expect.poll(async () => Number(await row.getAttribute('data-seq')), { timeout: 30_000 }).toBeGreaterThan(seq)
      await expect.poll(async () => await row.locator('td[data-field="age"]').textContent(), { timeout: 30_000 }).not.toBe(age)
    }
    const uptime = await page.locator('#node-uptime').textContent()
    await expect.poll(async () => await page.locator('#node-uptime').textContent(), { timeout: 10_000 }).not.toBe(uptime)
  })

  it('draws who is connected to whom across the whole mesh, not a star around this node', async () => {
    for (const node of nodes) await page.locator(`#topology [data-node-id="${node.peerId}"]`).waitFor()
    await expect.poll(async () => await page.locator('#topology [data-link]').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(3)
    // Links between the other nodes come from their load reports (their neighbour lists).
    await expect.poll(async () => (await linksBeyond(page, nodes[0].peerId)).length, { timeout: 60_000 }).toBeGreaterThanOrEqual(2)
    // Every such link is a connection its ends have.
    for (const [a, b] of await linksBeyond(page, nodes[0].peerId)) {
      const end = nodes.find(n => n.peerId === a)
      expect(end, 'a link drawn between two of the mesh\'s nodes').toBeDefined()
      const peers = (await status(end!)).peers
      expect(peers.some(p => p.peerId === b && p.connected), `${a} is connected to ${b}`).toBe(true)
    }
  })

  it('shows every node\'s load from its report', async () => {
    for (const node of nodes) {
      const row = page.locator(`#peer-table tbody tr[data-peer-id="${node.peerId}"]`)
      await expect.poll(async () => await row.locator('td[data-field="capacity"]').textContent(), { timeout: 30_000 }).toMatch(/^\d+$/)
      await expect.poll(async () => await row.locator('td[data-field="links"]').textContent(), { timeout: 30_000 }).toMatch(/^[1-9]\d*$/)
    }
    expect(await page.locator('#fleet-totals td[data-field="reporting"]').textContent()).toBe('4 of 4 reporting')
  })

  it('counts an inference request served after POST /infer', async () => {
    const s = await status(nodes[0])
    expect(s.models.map(m => m.name), 'node-1 serves the example model').toContain('mnist-mlp')
    expect(await page.locator('#offload-body').isVisible(), 'the page shows the offload service').toBe(true)
    const infer = async (prefer: string): Promise<Response> => await fetch(`${nodes[0].apiUrl}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: s.models[0].id, prefer, inputs: [{ shape: [1, 784], dtype: 'float32', data: new Array(784).fill(0) }] })
    })
    const served = async (): Promise<number> => await numberOf(page, '#served-local') + await numberOf(page, '#served-remote')
    const before = await served()
    const res = await infer('auto')
    expect(res.status, 'POST /infer is served').toBe(200)
    await expect.poll(served, { timeout: 15_000 }).toBeGreaterThan(before)
    // A few requests sent to peers, each once the page has shown the one before.
    for (let i = 0; i < 3; i++) {
      const remote = await numberOf(page, '#served-remote')
      expect((await infer('remote')).status).toBe(200)
      await expect.poll(async () => await numberOf(page, '#served-remote'), { timeout: 15_000 }).toBeGreaterThan(remote)
    }
    const peerRows = await page.locator('#by-peer tr[data-peer-id]').evaluateAll(rows => rows.map(r => r.getAttribute('data-peer-id')))
    expect(peerRows.some(id => nodes.slice(1).some(n => n.peerId === id))).toBe(true)
    await expect.poll(async () => Number(await page.locator('#latency-spark').getAttribute('data-samples')), { timeout: 10_000 }).toBeGreaterThan(1)
  })

  it('shows the fleet\'s offload traffic: what peers served for node-1, from their reports', async () => {
    const self = page.locator(`#peer-table tbody tr[data-self="true"]`)
    await expect.poll(async () => Number(await self.locator('td[data-field="servedRemotely"]').textContent()), { timeout: 15_000 }).toBeGreaterThanOrEqual(3)
    const forPeers = async (): Promise<number> => {
      const cells = await page.locator('#peer-table tbody tr[data-self="false"] td[data-field="servedForPeers"]').allTextContents()
      return cells.map(Number).filter(Number.isFinite).reduce((a, b) => a + b, 0)
    }
    await expect.poll(forPeers, { timeout: 30_000 }).toBeGreaterThanOrEqual(3)
    expect(await numberOf(page, '#fleet-totals td[data-field="servedForPeers"]')).toBeGreaterThanOrEqual(3)
  })

  it('adds a point to the federated chart for every round', async () => {
    const s = await status(nodes[0])
    const res = await fetch(`${nodes[0].apiUrl}/federated/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: s.models[0]?.id, rounds: FED_ROUNDS, strategy: 'fedavg', minParticipants: 2, fraction: 1, epochs: 1, batchSize: 20, learningRate: 0.1, waitForClients: 2 })
    })
    expect(res.status, 'POST /federated/runs starts a run').toBe(202)
    const seen: number[] = []
    await waitFor('every round on the chart', async () => {
      const points = await page.locator('#fed-chart [data-round]').count()
      if (seen.at(-1) !== points) seen.push(points)
      return points >= FED_ROUNDS
    }, 240_000, 200)
    expect(seen).toEqual([...seen].sort((a, b) => a - b))
    expect(await page.locator('#fed-rounds tbody tr[data-round]').count()).toBe(FED_ROUNDS)
    await expect.poll(async () => await page.locator('#fed-global-model').getAttribute('data-model-id')).not.toBe('')
  })

  it('loads nothing from outside the node and logs no errors', () => {
    const origin = new URL(nodes[0].apiUrl).origin
    expect(requests.filter(url => !url.startsWith(origin))).toEqual([])
    expect(pageErrors).toEqual([])
  })

  it('saves a screenshot (test-results/dashboard-mesh.png)', async () => {
    await mkdir(repo('test-results'), { recursive: true })
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    expect(existsSync(SCREENSHOT)).toBe(true)
  })
})

/**
 * The same page over an in-process control API with stubbed offload and
 * federated views: the parts that need those services, checked now and
 * independently of them.
 */
describe.skipIf(!HAS_CHROMIUM)('the dashboard over stubbed offload and federated views', () => {
  const state = stubState()
  const peerA = '12D3KooWStubPeerAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
  const peerB = '12D3KooWStubPeerBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'
  const peerC = '12D3KooWStubPeerCcccccccccccccccccccccccccccccccccccc'
  const run: RunSummary = {
    id: 'run-1', state: 'running', strategy: 'fedavg', rounds: 5, completedRounds: 0, coordinator: 'self',
    globalModelId: 'bafybase', startedAt: Date.now(), history: []
  }
  let api: ControlApi
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    state.peers.set(peerA, { report: stubReport('laptop', 1, { cpu: 0.35, connections: 2, neighbours: [peerB, peerC] }), connected: true })
    state.peers.set(peerB, { report: stubReport('raspberry-pi', 1, { cpu: 0.92, memFree: 300 * 2 ** 20, inFlight: 2, queued: 3, training: true, traffic: { servedLocally: 4, servedRemotely: 0, servedForPeers: 9 } }), connected: true })
    state.peers.set(peerC, { report: stubReport('phone', 1, { cpu: 0.05, connections: 21, neighbours: [peerA] }), connected: false })
    state.offload = { servedLocally: 12, servedRemotely: 30, servedForPeers: 7, failed: 1, byPeer: { [peerA]: 21, [peerB]: 9 }, p50Ms: 14, p99Ms: 61, queueDepth: 1, inFlight: 1, capacity: 2 }
    state.runs = [run]
    api = await startStubApi(state)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
    page = await browser.newPage({ viewport: VIEWPORT })
    await page.goto(api.url)
  })

  afterAll(async () => {
    await browser?.close()
    await api?.stop()
  })

  it('shows offload counters, per-peer counts and a latency sparkline', async () => {
    await page.waitForFunction(() => Number(document.body.dataset.snapshots) > 0)
    expect(await numberOf(page, '#served-local')).toBe(12)
    expect(await numberOf(page, '#served-remote')).toBe(30)
    expect(await numberOf(page, '#served-for-peers')).toBe(7)
    expect(await page.locator('#by-peer tr[data-peer-id]').count()).toBe(2)
    state.offload = { ...state.offload!, servedLocally: 13, p50Ms: 18, p99Ms: 80 }
    await expect.poll(async () => await numberOf(page, '#served-local'), { timeout: 5000 }).toBe(13)
    await expect.poll(async () => Number(await page.locator('#latency-spark').getAttribute('data-samples')), { timeout: 5000 }).toBeGreaterThan(1)
  })

  it('draws the links peers report and says how many no report lists', async () => {
    await expect.poll(async () => (await linksBeyond(page, STUB_SELF)).length, { timeout: 5000 }).toBe(2)
    expect(await page.locator('#topology .node.gossip').getAttribute('data-node-id')).toBe(peerC)
    expect(await page.locator('#topology-unlisted').textContent()).toContain('20 more links')
    expect(await page.locator(`#peer-table tr[data-peer-id="${peerB}"] td[data-field="servedForPeers"]`).textContent()).toBe('9')
    expect(await page.locator(`#peer-table tr[data-peer-id="${peerC}"] td[data-field="servedForPeers"]`).textContent()).toBe('–')
  })

  it('adds one point to the federated chart per completed round', async () => {
    for (let round = 1; round <= 4; round++) {
      const summary = stubRound(round)
      run.history.push(summary)
      run.completedRounds = round
      run.globalModelId = summary.globalModelId
      await expect.poll(async () => await page.locator('#fed-chart [data-round]').count(), { timeout: 5000 }).toBe(round)
    }
    expect(await page.locator('#fed-rounds tbody tr[data-round]').count()).toBe(4)
    expect(await page.locator('#fed-rounds tr[data-round="2"] td[data-field="failures"]').textContent()).toBe('1')
    expect(await page.locator('#fed-global-model').getAttribute('data-model-id')).toBe('bafyglobal4')
  })

  it('limits the number of event-stream clients', async () => {
    const controllers = Array.from({ length: 40 }, () => new AbortController())
    const answers = await Promise.all(controllers.map(async c => (await fetch(`${api.url}/events`, { signal: c.signal })).status))
    controllers.forEach(c => { c.abort() })
    // The page holds one stream already: 31 more fit, the rest are refused.
    expect(answers.filter(code => code === 200)).toHaveLength(31)
    expect(answers.filter(code => code === 503)).toHaveLength(9)
    // Closed streams free their places.
    await waitFor('a free event-stream place', async () => {
      const c = new AbortController()
      const code = (await fetch(`${api.url}/events`, { signal: c.signal })).status
      c.abort()
      return code === 200
    }, 10_000)
  })

  it('saves a screenshot (test-results/dashboard-stub.png)', async () => {
    await mkdir(repo('test-results'), { recursive: true })
    await page.screenshot({ path: repo('test-results/dashboard-stub.png'), fullPage: true })
  })
})
