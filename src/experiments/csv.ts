/**
 * `rounds.csv`: one line per round with the columns
 * `round,accuracy,loss,participants,failures,wallMs,bytesUp,bytesDown`,
 * then `epsilon,delta` (privacy spent so far) when the run adds DP noise.
 */
import type { RoundRecord } from '../federated/run-types.js'

/** The CSV columns, in order. */
export const ROUNDS_CSV_COLUMNS = ['round', 'accuracy', 'loss', 'participants', 'failures', 'wallMs', 'bytesUp', 'bytesDown'] as const

/** Columns appended when any round carries differential-privacy accounting. */
export const ROUNDS_CSV_PRIVACY_COLUMNS = ['epsilon', 'delta'] as const

function cell (value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(6).replace(/0+$/, '').replace(/\.$/, '')
}

/** Render round records as CSV text with a header line and a trailing newline. */
export function roundsToCsv (records: readonly RoundRecord[]): string {
  const dp = records.some((r) => r.privacy !== undefined)
  const lines = [[...ROUNDS_CSV_COLUMNS, ...(dp ? ROUNDS_CSV_PRIVACY_COLUMNS : [])].join(',')]
  for (const r of records) {
    const row = [r.round, r.accuracy, r.loss, r.participants, r.failures, Math.round(r.wallMs), r.bytesUp, r.bytesDown].map(cell)
    if (dp) row.push(r.privacy === undefined ? '' : cell(r.privacy.epsilon), r.privacy === undefined ? '' : String(r.privacy.delta))
    lines.push(row.join(','))
  }
  return lines.join('\n') + '\n'
}
