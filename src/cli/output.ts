/** Printing for the CLI: human lines or one JSON object per line, and plain tables. */

export type LogFormat = 'text' | 'json'

export function emit (format: LogFormat, event: string, fields: Record<string, unknown>, text: string): void {
  if (format === 'json') process.stdout.write(JSON.stringify({ event, ...fields }) + '\n')
  else process.stdout.write(text + '\n')
}

/** Left-aligned columns separated by two spaces. */
export function table (header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

export function shortId (peerId: string): string {
  return peerId.length > 16 ? `${peerId.slice(0, 8)}…${peerId.slice(-6)}` : peerId
}

export function formatDuration (ms: number): string {
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`
}

export function formatBytes (n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)}G`
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(0)}M`
  return `${Math.round(n / 1024)}K`
}
