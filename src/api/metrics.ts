/**
 * Prometheus text exposition (format 0.0.4) of a node's figures. Metric names
 * are stable and documented in README "Metrics"; all start with `edge_mesh_`.
 */

export interface MetricSample {
  labels?: Record<string, string>
  value: number
}

export interface MetricFamily {
  name: string
  help: string
  type: 'counter' | 'gauge'
  samples: MetricSample[]
}

function escapeLabel (value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

function formatSample (name: string, sample: MetricSample): string {
  const labels = Object.entries(sample.labels ?? {})
  const labelText = labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`
  const value = Number.isFinite(sample.value) ? String(sample.value) : 'NaN'
  return `${name}${labelText} ${value}`
}

export function formatMetrics (families: MetricFamily[]): string {
  return families.map(f => [
    `# HELP ${f.name} ${f.help}`,
    `# TYPE ${f.name} ${f.type}`,
    ...f.samples.map(s => formatSample(f.name, s))
  ].join('\n')).join('\n') + '\n'
}
