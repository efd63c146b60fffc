/**
 * `rounds.csv`: one line per round with the columns
 * `round,accuracy,loss,participants,failures,wallMs,bytesUp,bytesDown`.
 */
import type { RoundRecord } from '../federated/run-types.js'

/** The CSV columns, in order. */
export const ROUNDS_CSV_COLUMNS = ['round', 'accuracy', 'loss', 'participants', 'failures', 'wallMs', 'bytesUp', 'bytesDown'] as const

function cell (value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(6).replace(/0+$/, '').replace(/\.$/, '')
}

/** Render round records as CSV text with a header line and a trailing newline. */
export function roundsToCsv (records: readonly RoundRecord[]): string {
  const lines = [ROUNDS_CSV_COLUMNS.join(',')]
  for (const r of records) {
    lines.push([r.round, r.accuracy, r.loss, r.participants, r.failures, Math.round(r.wallMs), r.bytesUp, r.bytesDown].map(cell).join(','))
  }
  return lines.join('\n') + '\n'
}
