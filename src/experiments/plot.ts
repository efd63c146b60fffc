/**
 * A self-contained SVG line chart (no dependency) as a paper would print it:
 * a title, axis labels, round-number ticks, light grid lines, one polyline
 * with markers per series, dashed reference lines (accuracy targets) whose
 * labels sit in the right margin, and a legend in its own band between the
 * title and the plot, so neither label nor legend ever covers data or a grid
 * line. Text boxes are estimated from the font size and written as
 * `data-box="x y w h"` on the label and legend groups (tests check overlaps).
 */

export interface LineChartOptions {
  title?: string
  /** A second, smaller title line (e.g. the settings E, B, lr, seed). */
  subtitle?: string
  xLabel?: string
  yLabel?: string
  /** Horizontal reference lines, e.g. accuracy targets. */
  targets?: number[]
  /** The y range; `[0, 1]` (accuracy) by default, `'auto'` for [0, the largest value] (loss). */
  yRange?: [number, number] | 'auto'
  width?: number
  height?: number
}

export interface Series {
  name: string
  points: Array<{ x: number, y: number }>
}

/** A text box in SVG coordinates. */
export interface Box { x: number, y: number, w: number, h: number }

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf']
const FONT = 12
/** Average glyph width of a sans-serif font, as a fraction of its size (for text boxes). */
const GLYPH = 0.6
const LEGEND_ROW = 18

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

function textWidth (text: string, size = FONT): number {
  return Math.ceil(text.length * size * GLYPH)
}

function boxAttr (b: Box): string {
  return `data-box="${b.x} ${b.y} ${b.w} ${b.h}"`
}

/** Legend entries laid out left to right, wrapping within `width`; returns their boxes. */
function legendLayout (names: readonly string[], left: number, top: number, width: number): Box[] {
  const boxes: Box[] = []
  let x = left
  let y = top
  for (const name of names) {
    const w = 22 + textWidth(name)
    if (x > left && x + w > left + width) { x = left; y += LEGEND_ROW }
    boxes.push({ x, y, w, h: LEGEND_ROW - 2 })
    x += w + 16
  }
  return boxes
}

function yDomain (series: readonly Series[], options: LineChartOptions): [number, number] {
  if (options.yRange !== undefined && options.yRange !== 'auto') return options.yRange
  if (options.yRange === undefined) return [0, 1]
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter(Number.isFinite)
  const top = Math.max(0, ...ys)
  if (!(top > 0)) return [0, 1]
  // Up to the next round tick above the largest value, so the top point sits below a labelled line.
  const ticks = niceTicks(0, top, 5)
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : top
  return [0, Number((Math.ceil(top / step - 1e-9) * step).toFixed(10))]
}

/** Render series as an SVG document (see the module TSDoc). */
export function lineChartSvg (series: readonly Series[], options: LineChartOptions = {}): string {
  const width = options.width ?? 640
  const height = options.height ?? 420
  const targets = options.targets ?? []
  const right = 16 + Math.max(0, ...targets.map((t) => textWidth(label(t)) + 6))
  const titleBottom = options.subtitle === undefined ? 30 : 46
  const legend = legendLayout(series.map((s) => s.name), 64, titleBottom + 4, width - 64 - right)
  const top = (legend.at(-1)?.y ?? titleBottom) + LEGEND_ROW + 8
  const margin = { left: 64, right, top, bottom: 52 }
  const pw = width - margin.left - margin.right
  const ph = height - margin.top - margin.bottom
  const xs = series.flatMap((s) => s.points.map((p) => p.x))
  const xMin = Math.min(0, ...xs)
  const xMax = Math.max(xMin + 1, ...xs)
  const [yMin, yMax] = yDomain(series, options)
  const px = (v: number): number => Math.round(v * 10) / 10
  const sx = (x: number): number => px(margin.left + (x - xMin) / (xMax - xMin) * pw)
  const sy = (y: number): number => px(margin.top + (1 - (Math.max(yMin, Math.min(yMax, y)) - yMin) / (yMax - yMin)) * ph)
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text class="title" x="${width / 2}" y="20" text-anchor="middle" font-size="15">${escapeXml(options.title ?? 'Accuracy per round')}</text>`
  ]
  if (options.subtitle !== undefined) out.push(`<text class="subtitle" x="${width / 2}" y="38" text-anchor="middle" fill="#444">${escapeXml(options.subtitle)}</text>`)
  out.push(`<rect class="plot-area" x="${margin.left}" y="${margin.top}" width="${pw}" height="${ph}" fill="none"/>`)
  for (const t of niceTicks(yMin, yMax, 5)) {
    out.push(`<line class="grid" x1="${margin.left}" x2="${margin.left + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`)
    out.push(`<line x1="${margin.left - 5}" x2="${margin.left}" y1="${sy(t)}" y2="${sy(t)}" stroke="black"/>`)
    out.push(`<text x="${margin.left - 8}" y="${sy(t) + 4}" text-anchor="end">${label(t)}</text>`)
  }
  for (const t of niceTicks(xMin, xMax, Math.min(10, Math.max(1, xMax - xMin))).filter(Number.isInteger)) {
    out.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${margin.top + ph}" y2="${margin.top + ph + 5}" stroke="black"/>`)
    out.push(`<text x="${sx(t)}" y="${margin.top + ph + 18}" text-anchor="middle">${label(t)}</text>`)
  }
  for (const target of targets.filter((t) => t >= yMin && t <= yMax)) {
    const box: Box = { x: margin.left + pw + 4, y: sy(target) - FONT / 2 - 1, w: textWidth(label(target)), h: FONT + 2 }
    out.push(`<line class="target" x1="${margin.left}" x2="${margin.left + pw}" y1="${sy(target)}" y2="${sy(target)}" stroke="#888" stroke-dasharray="4 4"/>`)
    out.push(`<g class="target-label" ${boxAttr(box)}><text x="${box.x}" y="${sy(target) + 4}" fill="#555">${label(target)}</text></g>`)
  }
  out.push(`<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + ph}" stroke="black"/>`)
  out.push(`<line x1="${margin.left}" x2="${margin.left + pw}" y1="${margin.top + ph}" y2="${margin.top + ph}" stroke="black"/>`)
  out.push(`<text class="x-label" x="${margin.left + pw / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(options.xLabel ?? 'round')}</text>`)
  out.push(`<text class="y-label" transform="translate(16 ${margin.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel ?? 'accuracy')}</text>`)
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]
    const pts = s.points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' ')
    out.push(`<polyline class="series" fill="none" stroke="${color}" stroke-width="2" points="${pts}"/>`)
    for (const p of s.points) out.push(`<circle cx="${sx(p.x)}" cy="${sy(p.y)}" r="3" fill="${color}"/>`)
    const b = legend[i]
    out.push(`<g class="legend" ${boxAttr(b)}><line x1="${b.x}" x2="${b.x + 16}" y1="${b.y + b.h / 2}" y2="${b.y + b.h / 2}" stroke="${color}" stroke-width="2"/>` +
      `<text x="${b.x + 22}" y="${b.y + b.h / 2 + 4}" fill="#222">${escapeXml(s.name)}</text></g>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

/** The settings line of an experiment's plots: strategy, K, C, E, B, lr, partition, seed. */
export function settingsLine (s: { strategy?: string, clients: number, fraction: number, epochs: number, batchSize: number, learningRate: number, partition: string, seed: number }): string {
  return `${s.strategy === undefined ? '' : `${s.strategy}, `}K=${s.clients}, C=${s.fraction}, E=${s.epochs}, B=${s.batchSize === 0 ? '∞' : s.batchSize}, lr=${s.learningRate}, ${s.partition}, seed ${s.seed}`
}
