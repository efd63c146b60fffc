/**
 * How privacy and uplink figures of a round read in one line of text (the
 * CLI progress line of `edge-mesh train` and `edge-mesh experiment`), kept
 * here so every caller prints them the same way.
 */

/** `  ε 1.23 (δ 1e-5)` for a round of a DP run, `''` otherwise. */
export function formatRoundPrivacy (r: { epsilon?: number, delta?: number }): string {
  if (r.epsilon === undefined) return ''
  const eps = Number.isFinite(r.epsilon) ? r.epsilon.toFixed(2) : '∞'
  return `  ε ${eps} (δ ${r.delta ?? '?'})`
}

/** `  up 1.23 MB` (bytes of updates received this round), `''` when unknown. */
export function formatRoundBytes (r: { bytesUp?: number }): string {
  if (r.bytesUp === undefined || !Number.isFinite(r.bytesUp)) return ''
  return `  up ${formatBytes(r.bytesUp)}`
}

/** Bytes in B, kB, MB or GB (powers of 1000), three significant digits. */
export function formatBytes (bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toPrecision(3)} ${units[unit]}`
}
