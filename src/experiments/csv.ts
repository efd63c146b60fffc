/**
 * `rounds.csv`: one line per round with the columns
 * `round,accuracy,loss,participants,failures,wallMs,bytesUp,bytesDown`,
 * then `epsilon,delta` (privacy spent so far) when the run adds DP noise.
 * Round 0, when present, is the initial model evaluated before training.
 */
import type { RoundRecord } from '../federated/run-types.js'

/** The CSV columns, in order. */
export const ROUNDS_CSV_COLUMNS = ['round', 'accuracy', 'loss', 'participants', 'failures', 'wallMs', 'bytesUp', 'bytesDown'] as const

/** Columns appended when any round carries differential-privacy accounting. */
export const ROUNDS_CSV_PRIVACY_COLUMNS = ['epsilon', 'delta'] as const

function cell (value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(6).replace(/0+$/, '').replace(/\.$/, '')
}

/** The header line (no newline); `dp` adds the privacy columns. */
export function csvHeader (dp: boolean): string {
  return [...ROUNDS_CSV_COLUMNS, ...(dp ? ROUNDS_CSV_PRIVACY_COLUMNS : [])].join(',')
}

/** One round's line (no newline). */
export function csvRow (r: RoundRecord, dp: boolean): string {
  const row = [r.round, r.accuracy, r.loss, r.participants, r.failures, Math.round(r.wallMs), r.bytesUp, r.bytesDown].map(cell)
  if (dp) row.push(r.privacy === undefined ? '' : cell(r.privacy.epsilon), r.privacy === undefined ? '' : String(r.privacy.delta))
  return row.join(',')
}

/** Render round records as CSV text with a header line and a trailing newline. */
export function roundsToCsv (records: readonly RoundRecord[]): string {
  const dp = records.some((r) => r.privacy !== undefined)
  return [csvHeader(dp), ...records.map((r) => csvRow(r, dp))].join('\n') + '\n'
}

/** The record of round 0: the initial model, evaluated before any training. */
export function initialRecord (evaluation: { accuracy: number, loss: number }, globalModelId = ''): RoundRecord {
  return {
    round: 0, accuracy: evaluation.accuracy, loss: evaluation.loss, participants: 0, participantIds: [], failures: 0, failureReasons: [],
    attempts: 0, wallMs: 0, bytesUp: 0, bytesDown: 0, globalModelId, slowestTrainMs: 0
  }
}

/** First round each target was reached. */
export function roundsToTargets (records: readonly RoundRecord[], targets: readonly number[]): Array<{ target: number, round: number | null }> {
  return targets.map((target) => ({ target, round: records.find((r) => r.accuracy >= target)?.round ?? null }))
}
