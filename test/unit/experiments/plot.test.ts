import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ExperimentOutputs } from '../../../src/experiments/outputs.js'
import { initialRecord } from '../../../src/experiments/csv.js'
import { lineChartSvg, settingsLine } from '../../../src/experiments/plot.js'
import type { Box } from '../../../src/experiments/plot.js'
import type { RoundRecord } from '../../../src/federated/run-types.js'

function boxes (svg: string, cls: string): Box[] {
  return [...svg.matchAll(new RegExp(`<g class="${cls}" data-box="([\\d.-]+) ([\\d.-]+) ([\\d.-]+) ([\\d.-]+)"`, 'g'))]
    .map((m) => ({ x: Number(m[1]), y: Number(m[2]), w: Number(m[3]), h: Number(m[4]) }))
}

function points (svg: string): Array<{ x: number, y: number }> {
  return [...svg.matchAll(/<circle cx="([\d.-]+)" cy="([\d.-]+)" r="3"/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }))
}

function plotArea (svg: string): Box {
  const m = /<rect class="plot-area" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/.exec(svg)
  if (m === null) throw new Error('no plot area')
  return { x: Number(m[1]), y: Number(m[2]), w: Number(m[3]), h: Number(m[4]) }
}

/** A marker of radius 3 touches the box. */
function touches (b: Box, p: { x: number, y: number }, r = 3): boolean {
  return p.x + r >= b.x && p.x - r <= b.x + b.w && p.y + r >= b.y && p.y - r <= b.y + b.h
}

function overlaps (a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
}

/** Accuracy curves that run right through the targets' heights, up to the top right corner where a legend used to sit. */
const curve = (shift: number): Array<{ x: number, y: number }> =>
  Array.from({ length: 21 }, (_, r) => ({ x: r, y: Math.min(1, 0.1 + shift + r * 0.045) }))

describe('experiment plots', () => {
  const svg = lineChartSvg([
    { name: 'fedavg', points: curve(0) },
    { name: 'fedmedian with a long legend entry', points: curve(0.02) },
    { name: 'krum', points: curve(-0.05) }
  ], { title: 'MNIST fedavg vs fedmedian', subtitle: settingsLine({ clients: 10, fraction: 1, epochs: 1, batchSize: 10, learningRate: 0.05, partition: 'iid', seed: 3 }), targets: [0.85, 0.9, 0.95], yLabel: 'held-out accuracy' })

  it('has a title with E, B, lr and seed, axis labels, a legend entry per series and a round-0 point', () => {
    expect(svg).toContain('MNIST fedavg vs fedmedian')
    expect(svg).toContain('K=10, C=1, E=1, B=10, lr=0.05, iid, seed 3')
    expect(svg).toMatch(/class="x-label"[^>]*>round</)
    expect(svg).toMatch(/class="y-label"[^>]*>held-out accuracy</)
    expect(svg.match(/<polyline class="series"/g)).toHaveLength(3)
    expect(boxes(svg, 'legend')).toHaveLength(3)
    expect(boxes(svg, 'target-label')).toHaveLength(3)
    const area = plotArea(svg)
    expect(points(svg).some((p) => p.x === area.x)).toBe(true)
    expect(svg).toMatch(/text-anchor="middle">0</)
  })

  it('keeps target labels and the legend off the data points and the grid', () => {
    const labels = [...boxes(svg, 'legend'), ...boxes(svg, 'target-label')]
    for (const b of labels) for (const p of points(svg)) expect(touches(b, p), `${JSON.stringify(b)} covers ${JSON.stringify(p)}`).toBe(false)
    const area = plotArea(svg)
    // outside the plot area, where grid lines and reference lines are drawn
    for (const b of labels) expect(overlaps(b, area), `${JSON.stringify(b)} overlaps the plot area`).toBe(false)
    for (const [i, a] of labels.entries()) for (const b of labels.slice(i + 1)) expect(overlaps(a, b)).toBe(false)
  })

  it('scales a loss plot to its values', () => {
    const loss = lineChartSvg([{ name: 'loss', points: [{ x: 0, y: 2.31 }, { x: 1, y: 0.6 }, { x: 2, y: 0.41 }] }], { yRange: 'auto', yLabel: 'held-out loss' })
    expect(loss).toMatch(/text-anchor="end">2\.5</)
    expect(points(loss).every((p) => p.y >= plotArea(loss).y)).toBe(true)
  })

  it('writes rounds.csv line by line and redraws both plots for several series', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edge-mesh-plot-'))
    try {
      const out = new ExperimentOutputs({ dir, series: ['fedavg', 'krum'], title: 't', targets: [0.9] })
      const rec = (round: number): RoundRecord => ({ ...initialRecord({ accuracy: 0.5 + round / 10, loss: 1 / (round + 1) }), round, participants: 2 })
      out.add('fedavg', initialRecord({ accuracy: 0.1, loss: 2.3 }))
      out.add('fedavg', rec(1))
      expect((await readFile(join(dir, 'rounds-fedavg.csv'), 'utf8')).trim().split('\n')).toHaveLength(3)
      out.add('krum', rec(1))
      const accuracy = await readFile(join(dir, 'accuracy.svg'), 'utf8')
      expect(accuracy.match(/<polyline class="series"/g)).toHaveLength(2)
      expect(await readFile(join(dir, 'loss.svg'), 'utf8')).toContain('held-out loss')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
