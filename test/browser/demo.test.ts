/**
 * `npm start` as a person sees it: `edge-mesh demo --nodes 3` (what `npm
 * start` runs), node-1's dashboard open in headless Chromium until node-1 has
 * handed requests to idle peers and the demo's federated run has completed;
 * then the screenshot the README shows (docs/dashboard.png).
 */
import { spawn } from 'node:child_process'
import { copyFile, mkdir } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN_PATH } from '../../src/cli/cluster.js'
import { DEMO_ROUNDS } from '../../src/cli/demo-federated.js'
import { waitFor } from '../fixtures/index.js'
import { CHROMIUM, CHROMIUM_ARGS, HAS_CHROMIUM, VIEWPORT, linksBeyond, numberOf, repo } from './chromium.js'
import type { ChildProcess } from 'node:child_process'
import type { Browser, Page } from 'playwright-core'

const SCREENSHOT = repo('test-results/dashboard.png')
const README_SCREENSHOT = repo('docs/dashboard.png')

describe.skipIf(!HAS_CHROMIUM)('npm start (edge-mesh demo --nodes 3) in headless Chromium', () => {
  const lines: string[] = []
  const pageErrors: string[] = []
  let demo: ChildProcess
  let exited: Promise<number | null>
  let browser: Browser
  let page: Page
  let peerIds: string[] = []

  beforeAll(async () => {
    demo = spawn(process.execPath, [BIN_PATH, 'demo', '--nodes', '3'], { stdio: ['ignore', 'pipe', 'pipe'] })
    exited = new Promise(resolve => demo.on('exit', code => { resolve(code) }))
    createInterface({ input: demo.stdout! }).on('line', l => lines.push(l))
    const url = await waitFor('the demo table', () => lines.some(l => l.includes('Ctrl-C')) && lines.find(l => l.startsWith('node-1 '))?.match(/http:\/\/127\.0\.0\.1:\d+/)?.[0], 120_000)
    peerIds = [1, 2, 3].map(i => lines.find(l => l.startsWith(`node-${i} `))?.match(/12D3KooW\w+/)?.[0] ?? '')
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
    page = await browser.newPage({ viewport: VIEWPORT })
    page.on('pageerror', err => { pageErrors.push(err.message) })
    await page.goto(url)
  })

  afterAll(async () => {
    await browser?.close()
    if (demo != null && demo.exitCode == null) {
      demo.kill('SIGTERM')
      await exited
    }
  })

  it('shows node-1 handing requests to idle peers', async () => {
    await page.waitForFunction(() => Number(document.body.dataset.snapshots) > 0)
    await expect.poll(async () => await numberOf(page, '#served-remote'), { timeout: 120_000 }).toBeGreaterThan(0)
    await expect.poll(async () => await page.locator('#by-peer tr[data-peer-id]').count(), { timeout: 30_000 }).toBeGreaterThan(0)
  })

  it('shows the whole fleet and the link between the two other nodes', async () => {
    await expect.poll(async () => await page.locator('#peer-table tbody tr[data-peer-id]').count(), { timeout: 60_000 }).toBe(3)
    await expect.poll(async () => (await linksBeyond(page, peerIds[0])).length, { timeout: 60_000 }).toBe(1)
    const forPeers = page.locator(`#peer-table tbody tr[data-peer-id="${peerIds[1]}"] td[data-field="servedForPeers"]`)
    await expect.poll(async () => Number(await forPeers.textContent()), { timeout: 30_000 }).toBeGreaterThan(0)
  })

  it('shows the demo\'s federated run to its last round', async () => {
    await waitFor('the run completed', async () => await page.locator('#fed-state').textContent() === 'completed', 300_000, 500)
    expect(await page.locator('#fed-chart [data-round]').count()).toBe(DEMO_ROUNDS)
    // The demo prints its round lines when it next polls the run: wait for the line, do not race it.
    await waitFor('the demo\'s last round line', () => lines.some(l => l.includes(`round ${DEMO_ROUNDS}/${DEMO_ROUNDS}`)), 60_000)
  })

  it('saves the README screenshot (test-results/dashboard.png, copied to docs/dashboard.png)', async () => {
    expect(pageErrors).toEqual([])
    await mkdir(repo('test-results'), { recursive: true })
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    await copyFile(SCREENSHOT, README_SCREENSHOT)
  })
})
