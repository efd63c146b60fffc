/**
 * Update compression on the IID MNIST task (McMahan et al.'s setup in
 * simulate mode: 100 clients, C=0.1, E=1, B=10): the same seeded run with
 * float32, int8 and top-k 1 % + error feedback updates; uplink bytes summed
 * over all rounds and the final held-out accuracy.
 */
import { runMnistExperiment } from '../../src/experiments/mnist.js'
import type { ModelRuntime } from '../../src/model/types.js'

export interface CompressionRow {
  compression: string
  finalAccuracy: number
  bytesUp: number
  wallS: number
}

export interface CompressionResult {
  rounds: number
  rows: CompressionRow[]
  /** float32 uplink bytes over each scheme's. */
  bytesRatio: Record<string, number>
  /** float32's final accuracy minus each scheme's, in points (percent). */
  accuracyDropPoints: Record<string, number>
}

export const COMPRESSIONS = ['none', 'int8', 'topk:0.01'] as const

export async function measureCompression (runtime: ModelRuntime, rounds: number, seed: number, progress: (line: string) => void): Promise<CompressionResult> {
  const rows: CompressionRow[] = []
  for (const compression of COMPRESSIONS) {
    const started = performance.now()
    const r = await runMnistExperiment({ runtime, clients: 100, fraction: 0.1, epochs: 1, batchSize: 10, rounds, partition: 'iid', seed, compression })
    const row = { compression, finalAccuracy: r.finalAccuracy, bytesUp: r.records.reduce((n, x) => n + x.bytesUp, 0), wallS: (performance.now() - started) / 1000 }
    progress(`compression ${compression}: accuracy ${(row.finalAccuracy * 100).toFixed(2)} %, ${row.bytesUp} bytes up, ${row.wallS.toFixed(0)} s`)
    rows.push(row)
  }
  const base = rows[0]
  const bytesRatio: Record<string, number> = {}
  const accuracyDropPoints: Record<string, number> = {}
  for (const row of rows.slice(1)) {
    bytesRatio[row.compression] = base.bytesUp / row.bytesUp
    accuracyDropPoints[row.compression] = (base.finalAccuracy - row.finalAccuracy) * 100
  }
  return { rounds, rows, bytesRatio, accuracyDropPoints }
}
