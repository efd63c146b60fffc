/** Printing for the CLI: human lines or one JSON object per line, and plain tables. */

export type LogFormat = 'text' | 'json'

export function emit (format: LogFormat, event: string, fields: Record<string, unknown>, text: string): void {
  if (format === 'json') process.stdout.write(JSON.stringify({ event, ...fields }) + '\n')
  else process.stdout.write(text + '\n')
}

/**
 * `text` with control characters shown as escapes (`\x1b`, `\n`, `\u202e`):
 * names and other strings that peers gossip are printed through this, so a
 * peer cannot move the cursor, recolour or rewrite a user's terminal.
 * C0, DEL, C1, and Unicode line/paragraph separators and bidi controls are escaped.
 */
export function printable (text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, c => {
    const code = c.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

/** Pretty JSON whose non-printing characters (JSON leaves DEL, C1 and bidi controls raw) are `\\uXXXX` escapes: still the same JSON. */
export function printableJson (value: unknown): string {
  // eslint-disable-next-line no-control-regex
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** Left-aligned columns separated by two spaces; cells are made printable. */
export function table (header: string[], unsafeRows: string[][]): string {
  const rows = unsafeRows.map(r => r.map(printable))
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

export function shortId (unsafePeerId: string): string {
  const peerId = printable(unsafePeerId)
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
