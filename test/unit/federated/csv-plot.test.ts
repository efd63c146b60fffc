import { describe, expect, it } from 'vitest'
import { roundsToCsv } from '../../../src/experiments/csv.js'
import { roundsToTargets } from '../../../src/experiments/mnist.js'
import { lineChartSvg, niceTicks } from '../../../src/experiments/plot.js'
import type { RoundRecord } from '../../../src/federated/run-types.js'

const rec = (round: number, accuracy: number): RoundRecord => ({
  round, accuracy, loss: 0.5, participants: 3, failures: 1, failureReasons: [], attempts: 1, wallMs: 12.6, bytesUp: 100, bytesDown: 200, globalModelId: 'g', slowestTrainMs: 3
})

describe('rounds.csv', () => {
  it('writes the header and one line per round', () => {
    expect(roundsToCsv([rec(1, 0.8), rec(2, 0.9125)])).toBe(
      'round,accuracy,loss,participants,failures,wallMs,bytesUp,bytesDown\n' +
      '1,0.8,0.5,3,1,13,100,200\n' +
      '2,0.9125,0.5,3,1,13,100,200\n')
  })
})

describe('accuracy chart and targets', () => {
  it('reports the first round reaching each target', () => {
    expect(roundsToTargets([rec(1, 0.8), rec(2, 0.86), rec(3, 0.84), rec(4, 0.91)], [0.85, 0.9, 0.95]))
      .toEqual([{ target: 0.85, round: 2 }, { target: 0.9, round: 4 }, { target: 0.95, round: null }])
  })

  it('picks round tick values', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1])
    expect(niceTicks(0, 20, 10)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20])
  })

  it('draws axes, tick labels, targets and the series', () => {
    const svg = lineChartSvg([{ name: 'acc <test>', points: [{ x: 1, y: 0.5 }, { x: 2, y: 0.9 }] }], { targets: [0.85] })
    expect(svg).toContain('<polyline')
    expect(svg).toContain('stroke-dasharray')
    expect(svg).toContain('>0.85<')
    expect(svg).toContain('acc &lt;test&gt;')
    expect(svg.match(/<circle/g)).toHaveLength(2)
  })
})
