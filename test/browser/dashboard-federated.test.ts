/**
 * The dashboard's federated card in headless Chromium, over an in-process
 * control API whose federated view the test sets (no node processes): a run
 * waiting for its first clients says so and how to fix it, and the loss axis
 * is labelled with numbers that read well, or not at all (issue 13: "running ·
 * round 0/2" with no waiting state, and a loss axis reading `1.0e-9`, `5.0e-1(`).
 */
import { mkdir } from 'node:fs/promises'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStubApi, stubRound, stubState } from '../fixtures/stub-api.js'
import { waitingForClients } from '../../src/federated/mesh/service-helpers.js'
import { CHROMIUM, CHROMIUM_ARGS, HAS_CHROMIUM, VIEWPORT, repo } from './chromium.js'
import type { ControlApi } from '../../src/api/index.js'
import type { RunSummary } from '../../src/federated/mesh/service-types.js'
import type { Browser, Page } from 'playwright-core'

/** A number as a loss tick label: `0`, `0.42`, `3.1`, `120`, `1e-4`, `6.5e-10`, `1.5e+3`; nothing else. */
const TICK = /^(0|[1-9]\d*|\d+\.\d+|[1-9](\.\d+)?e[+-][1-9]\d*)$/

/** A run of `rounds` rounds whose completed rounds had these losses. */
function runWithLosses (id: string, losses: number[]): RunSummary {
  const history = losses.map((loss, i) => ({ ...stubRound(i + 1), loss }))
  return {
    id, state: 'running', strategy: 'fedavg', rounds: losses.length + 2, completedRounds: losses.length, coordinator: 'self',
    globalModelId: history.at(-1)?.globalModelId ?? 'bafybase', startedAt: Date.now(), history
  }
}

describe.skipIf(!HAS_CHROMIUM)('the federated card in headless Chromium', () => {
  const state = stubState()
  const pageErrors: string[] = []
  let api: ControlApi
  let browser: Browser
  let page: Page

  /** Serve `run` as the only run and wait until the page shows its rounds, in state `badge`. */
  async function show (run: RunSummary, badge: string): Promise<void> {
    state.runs = [run]
    // NaN travels as null in the snapshot's JSON.
    const losses = run.history.map(h => String(Number.isFinite(h.loss) ? h.loss : null))
    await expect.poll(async () => [
      await page.locator('#fed-state').textContent(),
      await page.locator('#fed-chart [data-round]').evaluateAll(points => points.map(p => p.getAttribute('data-loss')))
    ], { timeout: 10_000 }).toEqual([badge, losses])
  }

  /** The loss axis labels, bottom to top, and whether each lies wholly inside the chart as drawn. */
  async function lossTicks (): Promise<Array<{ text: string, y: number, inside: boolean }>> {
    const ticks = await page.locator('#fed-chart text[data-axis="loss"]').evaluateAll(labels => {
      const chart = document.getElementById('fed-chart')!.getBoundingClientRect()
      return labels.map(label => {
        const box = label.getBoundingClientRect()
        const inside = box.width > 0 && box.left >= chart.left && box.right <= chart.right && box.top >= chart.top && box.bottom <= chart.bottom
        return { text: label.textContent ?? '', y: box.top, inside }
      })
    })
    return ticks.sort((a, b) => b.y - a.y)
  }

  beforeAll(async () => {
    state.runs = []
    api = await startStubApi(state)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
    page = await browser.newPage({ viewport: VIEWPORT })
    page.on('pageerror', err => { pageErrors.push(err.message) })
    page.on('console', msg => { if (msg.type() === 'error') pageErrors.push(msg.text()) })
    await page.goto(api.url)
    await page.waitForFunction(() => Number(document.body.dataset.snapshots) > 0)
  })

  afterAll(async () => {
    await browser?.close()
    await api?.stop()
  })

  it('shows a run waiting for clients as waiting, with what it waits for and how to fix it', async () => {
    const waiting = waitingForClients(0, 2)
    const run: RunSummary = {
      id: 'run-waiting', state: 'running', strategy: 'fedavg', rounds: 2, completedRounds: 0, coordinator: 'self',
      globalModelId: 'bafyuntrainedbasemodel0000000000', startedAt: Date.now(), history: [], waiting
    }
    await show(run, 'waiting for clients')
    expect(await page.locator('#fed-state').getAttribute('data-value')).toBe('waiting')
    const line = page.locator('#fed-waiting')
    expect(await line.isVisible()).toBe(true)
    expect(await line.textContent()).toBe(waiting)
    expect(await line.textContent()).toContain('0 of 2 clients joined')
    expect(await line.textContent()).toContain('start nodes with --data')
    // Not "running · round 0/2", and the untrained base model is no global model.
    const shown = await page.locator('#fed-body').innerText()
    expect(shown).not.toMatch(/running/)
    expect(await page.locator('#fed-global-model').textContent()).toBe('–')
    expect(await page.locator('#fed-global-model').getAttribute('data-model-id')).toBe('')
    expect(shown).not.toContain('bafyuntrained')
    // No round has a loss yet: no loss labels.
    expect(await lossTicks()).toEqual([])
  })

  it('shows the run as running, without the waiting line, once its clients joined', async () => {
    const run = runWithLosses('run-waiting', [0.8])
    await show(run, 'running')
    expect(await page.locator('#fed-state').getAttribute('data-value')).toBe('running')
    expect(await page.locator('#fed-waiting').isVisible()).toBe(false)
    expect(await page.locator('#fed-global-model').getAttribute('data-model-id')).toBe(run.globalModelId)
  })

  it('labels no loss ticks while no round has a finite loss', async () => {
    await show(runWithLosses('run-nan', [Number.NaN, Number.NaN]), 'running')
    expect(await lossTicks()).toEqual([])
    // The accuracy axis is still labelled.
    expect(await page.locator('#fed-chart text[data-axis="accuracy"]').allTextContents()).toEqual(['0%', '50%', '100%'])
  })

  const cases: Array<[string, number[]]> = [
    ['0.5, 1e-9 and ordinary losses', [2.3, 0.5, 1e-9, 0.42, 0.31]],
    ['only 1e-9-ish losses', [1.3e-9, 9e-10, 4e-10]],
    ['a non-finite loss among finite ones', [0.5, Number.NaN, 0.25]],
    ['a diverging run', [1, 40, 1500]]
  ]
  for (const [name, losses] of cases) {
    it(`labels the loss axis with well-formed numbers that fit the chart: ${name}`, async () => {
      await show(runWithLosses(`run-${name}`, losses), 'running')
      const ticks = await lossTicks()
      expect(ticks.map(t => t.text)).toHaveLength(3)
      for (const t of ticks) {
        expect(t.text, `loss tick "${t.text}"`).toMatch(TICK)
        expect(t.inside, `loss tick "${t.text}" is drawn wholly inside the chart`).toBe(true)
      }
      // Bottom to top: 0, half the largest loss, the largest loss, each to within its rounding.
      const max = Math.max(...losses.filter(Number.isFinite))
      const values = ticks.map(t => Number(t.text))
      expect(values[0]).toBe(0)
      for (const [i, v] of [[1, max / 2], [2, max]]) {
        expect(Math.abs(values[i] - v) / v, `tick "${ticks[i].text}" for ${v}`).toBeLessThanOrEqual(0.05)
      }
    })
  }

  it('logs no errors', () => {
    expect(pageErrors).toEqual([])
  })

  it('saves a screenshot of the card (test-results/dashboard-federated.png)', async () => {
    await mkdir(repo('test-results'), { recursive: true })
    await page.locator('#fed-card').screenshot({ path: repo('test-results/dashboard-federated.png') })
  })
})
