/**
 * A self-contained SVG line chart (no dependency) of accuracy per round, with
 * axes, ticks, grid lines, axis labels, a title, and dashed lines for the
 * accuracy targets.
 */

export interface LineChartOptions {
  title?: string
  xLabel?: string
  yLabel?: string
  /** Horizontal reference lines, e.g. accuracy targets. */
  targets?: number[]
  width?: number
  height?: number
}

export interface Series {
  name: string
  points: Array<{ x: number, y: number }>
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e']
const MARGIN = { left: 64, right: 24, top: 40, bottom: 52 }

function escapeXml (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** Round-number tick values covering [min, max], about `count` of them. */
export function niceTicks (min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min]
  const raw = (max - min) / count
  const mag = Math.pow(10, Math.floor(Math.log10(raw)))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw
  const ticks: number[] = []
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toFixed(10)))
  return ticks
}

function label (v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(3)))
}

/** Render series as an SVG document. The y axis spans [0, 1] (accuracy). */
export function lineChartSvg (series: readonly Series[], options: LineChartOptions = {}): string {
  const width = options.width ?? 640
  const height = options.height ?? 400
  const pw = width - MARGIN.left - MARGIN.right
  const ph = height - MARGIN.top - MARGIN.bottom
  const xs = series.flatMap((s) => s.points.map((p) => p.x))
  const xMin = Math.min(0, ...xs)
  const xMax = Math.max(xMin + 1, ...xs)
  const px = (v: number): number => Math.round(v * 10) / 10
  const sx = (x: number): number => px(MARGIN.left + (x - xMin) / (xMax - xMin) * pw)
  const sy = (y: number): number => px(MARGIN.top + (1 - Math.max(0, Math.min(1, y))) * ph)
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(options.title ?? 'Accuracy per round')}</text>`
  ]
  for (const t of niceTicks(0, 1, 5)) {
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`)
    out.push(`<line x1="${MARGIN.left - 5}" x2="${MARGIN.left}" y1="${sy(t)}" y2="${sy(t)}" stroke="black"/>`)
    out.push(`<text x="${MARGIN.left - 8}" y="${sy(t) + 4}" text-anchor="end">${label(t)}</text>`)
  }
  for (const t of niceTicks(xMin, xMax, Math.min(10, Math.max(1, xMax - xMin))).filter(Number.isInteger)) {
    out.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${MARGIN.top + ph}" y2="${MARGIN.top + ph + 5}" stroke="black"/>`)
    out.push(`<text x="${sx(t)}" y="${MARGIN.top + ph + 18}" text-anchor="middle">${label(t)}</text>`)
  }
  for (const target of options.targets ?? []) {
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + pw}" y1="${sy(target)}" y2="${sy(target)}" stroke="#888" stroke-dasharray="4 4"/>`)
    out.push(`<text x="${MARGIN.left + pw - 4}" y="${sy(target) - 4}" text-anchor="end" fill="#555">${label(target)}</text>`)
  }
  out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + ph}" stroke="black"/>`)
  out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + pw}" y1="${MARGIN.top + ph}" y2="${MARGIN.top + ph}" stroke="black"/>`)
  out.push(`<text x="${MARGIN.left + pw / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(options.xLabel ?? 'round')}</text>`)
  out.push(`<text transform="translate(16 ${MARGIN.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel ?? 'accuracy')}</text>`)
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]
    const pts = s.points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' ')
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}"/>`)
    for (const p of s.points) out.push(`<circle cx="${sx(p.x)}" cy="${sy(p.y)}" r="3" fill="${color}"/>`)
    out.push(`<text x="${MARGIN.left + 8}" y="${MARGIN.top + 14 + 16 * i}" fill="${color}">${escapeXml(s.name)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}
