/**
 * What an experiment writes, as it goes: `rounds.csv` gets one line per
 * round the moment the round completes (Ctrl-C keeps every finished round),
 * and `accuracy.svg` and `loss.svg` are redrawn after each round. With
 * several series (`--strategy a,b`), each has its own `rounds-<name>.csv` and
 * both plots hold every series.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { csvHeader, csvRow } from './csv.js'
import { lineChartSvg } from './plot.js'
import type { RoundRecord } from '../federated/run-types.js'

export interface ExperimentOutputsInit {
  dir: string
  /** Series to expect, in order (one CSV each); a single series writes `rounds.csv`. */
  series: string[]
  /** Title and settings line of the plots. */
  title: string
  subtitle?: string
  /** Accuracy targets drawn as dashed lines. */
  targets?: number[]
  /** The runs add DP noise (privacy columns in the CSV). */
  dp?: boolean
}

export class ExperimentOutputs {
  private readonly records = new Map<string, RoundRecord[]>()
  private readonly started = new Set<string>()

  constructor (private readonly init: ExperimentOutputsInit) {
    mkdirSync(init.dir, { recursive: true })
    for (const name of init.series) this.records.set(name, [])
  }

  /** The CSV file of a series. */
  csvPath (name: string): string {
    return join(this.init.dir, this.init.series.length === 1 ? 'rounds.csv' : `rounds-${name.replace(/[^A-Za-z0-9_-]/g, '_')}.csv`)
  }

  /** Every file this writes. */
  files (): string[] {
    return [...this.init.series.map((n) => this.csvPath(n)), join(this.init.dir, 'accuracy.svg'), join(this.init.dir, 'loss.svg')]
  }

  /** Append one round of `name` (its CSV line now) and redraw the plots. */
  add (name: string, record: RoundRecord): void {
    const path = this.csvPath(name)
    if (!this.started.has(name)) {
      writeFileSync(path, csvHeader(this.init.dp === true) + '\n')
      this.started.add(name)
    }
    appendFileSync(path, csvRow(record, this.init.dp === true) + '\n')
    const list = this.records.get(name) ?? []
    list.push(record)
    this.records.set(name, list)
    this.plot()
  }

  /** Write accuracy.svg and loss.svg with every series so far. */
  plot (): void {
    const named = [...this.records].filter(([, r]) => r.length > 0)
    const label = (name: string): string => (this.init.series.length === 1 ? 'held-out' : name)
    const series = (pick: (r: RoundRecord) => number): Array<{ name: string, points: Array<{ x: number, y: number }> }> =>
      named.map(([name, r]) => ({ name: label(name), points: r.map((x) => ({ x: x.round, y: pick(x) })) }))
    const common = { title: this.init.title, subtitle: this.init.subtitle }
    writeFileSync(join(this.init.dir, 'accuracy.svg'), lineChartSvg(series((r) => r.accuracy), { ...common, yLabel: 'held-out accuracy', targets: this.init.targets }))
    writeFileSync(join(this.init.dir, 'loss.svg'), lineChartSvg(series((r) => r.loss), { ...common, yLabel: 'held-out loss', yRange: 'auto' }))
  }
}
