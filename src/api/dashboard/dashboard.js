// edge-mesh live dashboard. Plain browser JavaScript, no framework and no
// network beyond this node: it listens to `GET /events` (one JSON snapshot a
// second: { status, offload, federated, topology, fleet }) and redraws in place.
// The topology and the fleet cover the whole mesh: every node's load report
// carries its neighbours and offload counters (load report version 3).
// Element ids and data-* attributes are stable; the browser test relies on them.
'use strict'

const SVG_NS = 'http://www.w3.org/2000/svg'
/** Latency samples kept for the sparkline: one per snapshot, one minute. */
const LATENCY_WINDOW = 60

const $ = (id) => document.getElementById(id)
const state = { latency: [], selectedRun: null, snapshots: 0 }

// ---------- formatting ----------

function shortId (id) {
  return id.length > 16 ? `${id.slice(0, 6)}…${id.slice(-6)}` : id
}

function formatBytes (n) {
  if (n == null || !Number.isFinite(n)) return '–'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++ }
  return `${n.toFixed(n >= 100 || i === 0 ? 0 : 1)} ${units[i]}`
}

function formatDuration (ms) {
  if (ms == null || !Number.isFinite(ms)) return '–'
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${s % 60}s`
  const h = Math.floor(m / 60)
  if (h < 24) return `${h}h ${m % 60}m`
  return `${Math.floor(h / 24)}d ${h % 24}h`
}

function formatMs (ms) {
  if (ms == null || !Number.isFinite(ms)) return '–'
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`
}

const formatPct = (x) => (x == null || !Number.isFinite(x)) ? '–' : `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`
const formatNum = (x, digits = 3) => (x == null || !Number.isFinite(x)) ? '–' : x.toFixed(digits)

// ---------- DOM helpers ----------

function setText (el, text) {
  const value = String(text)
  if (el.textContent !== value) el.textContent = value
}

function el (tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v)
  for (const c of children) node.append(c)
  return node
}

function svg (tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v))
  if (text != null) node.textContent = text
  return node
}

/** A small horizontal bar, `fraction` in 0..1. */
function meter (fraction, hot = 0.85) {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0))
  const bar = el('span')
  bar.style.width = `${(f * 100).toFixed(1)}%`
  const wrap = el('span', { class: f >= hot ? 'meter hot' : 'meter' }, bar)
  return wrap
}

/** Keep one `<tr data-key>` per item in `tbody`, in order; `fill(tr, item)` writes the cells. */
function syncRows (tbody, items, key, attr, fill) {
  const existing = new Map([...tbody.children].map(tr => [tr.getAttribute(attr), tr]))
  items.forEach((item, i) => {
    const id = key(item)
    let tr = existing.get(id)
    if (tr == null) { tr = el('tr', { [attr]: id }) }
    existing.delete(id)
    fill(tr, item)
    if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] ?? null)
  })
  for (const tr of existing.values()) tr.remove()
}

/** The cell `data-field=name` of a row, created on first use. */
function cell (tr, name, className) {
  let td = tr.querySelector(`td[data-field="${name}"]`)
  if (td == null) {
    td = el('td', { 'data-field': name })
    if (className) td.className = className
    tr.append(td)
  }
  return td
}

// ---------- this node ----------

/** `movenet · graph-model · int32[1,192,192,3] · fixed batch · 33.8 ms/inference` */
function describeModel (m) {
  const inputs = (m.inputs ?? []).map(t => `${t.dtype}[${t.shape.map(d => d === -1 ? 'n' : d).join(',')}]`).join(', ')
  const parts = [m.name || shortId(m.id), m.format ?? 'layers-model', inputs]
  if (m.microBatching === false) parts.push('fixed batch')
  else if (m.batchRows != null) parts.push(`batches ≤ ${m.batchRows} rows`)
  parts.push(m.timing == null ? 'not run yet' : `${m.timing.p50MsPerRow.toFixed(1)} ms/inference`)
  return parts.filter(p => p !== '').join(' · ')
}

function renderNode (status) {
  setText($('node-name'), status.name || shortId(status.peerId))
  const role = $('node-role')
  setText(role, status.role)
  role.dataset.value = status.role
  setText($('node-peer-id'), status.peerId)
  setText($('node-backend'), status.backend)
  setText($('node-uptime'), formatDuration(status.uptimeMs))
  setText($('node-connections'), `${status.connections} (${status.peers.filter(p => p.connected).length} peers)`)
  const load = status.load
  setText($('node-load'), load == null
    ? 'no report yet'
    : `CPU ${formatPct(load.cpu)} · ${formatBytes(load.memFree)} free · ${load.inFlight} in flight · ${load.queued} queued · capacity ${load.capacity}`)
  setText($('node-models'), status.models.length === 0 ? 'none' : status.models.map(describeModel).join('\n'))
  const list = $('node-addresses')
  const addrs = status.addresses.join('\n')
  if (list.dataset.addrs !== addrs) {
    list.dataset.addrs = addrs
    list.replaceChildren(...status.addresses.map(a => el('li', {}, a)))
  }
  document.title = `${status.name || 'node'} · edge-mesh`
}

// ---------- offload ----------

function sparkLine (values, max, w, h, cls) {
  const n = LATENCY_WINDOW
  const points = values.map((v, i) => `${((i + n - values.length) / (n - 1)) * w},${h - 4 - (v / max) * (h - 14)}`)
  return svg('polyline', { class: cls, points: points.join(' ') })
}

function renderLatency () {
  const root = $('latency-spark')
  const samples = state.latency
  const W = 320; const H = 70
  const max = Math.max(1, ...samples.map(s => s.p99), ...samples.map(s => s.p50))
  setText($('latency-max'), formatMs(max))
  root.replaceChildren(
    svg('line', { class: 'base', x1: 0, y1: H - 4, x2: W, y2: H - 4 }),
    sparkLine(samples.map(s => s.p50), max, W, H, 'p50'),
    sparkLine(samples.map(s => s.p99), max, W, H, 'p99')
  )
  root.dataset.samples = String(samples.length)
}

function renderOffload (offload) {
  $('offload-absent').hidden = offload != null
  $('offload-body').hidden = offload == null
  if (offload == null) return
  setText($('served-local'), offload.servedLocally)
  setText($('served-remote'), offload.servedRemotely)
  setText($('served-for-peers'), offload.servedForPeers)
  setText($('infer-failed'), offload.failed)
  $('infer-failed').dataset.nonzero = String(offload.failed > 0)
  setText($('infer-queue'), offload.queueDepth)
  setText($('infer-in-flight'), offload.inFlight)
  setText($('infer-capacity'), offload.capacity)
  const spot = offload.spotChecks ?? { checked: 0, mismatches: 0, bans: 0 }
  setText($('spot-checked'), spot.checked)
  setText($('spot-mismatches'), spot.mismatches)
  setText($('spot-bans'), spot.bans)
  setText($('latency-p50'), formatMs(offload.p50Ms))
  setText($('latency-p99'), formatMs(offload.p99Ms))
  state.latency.push({ p50: offload.p50Ms || 0, p99: offload.p99Ms || 0 })
  if (state.latency.length > LATENCY_WINDOW) state.latency.splice(0, state.latency.length - LATENCY_WINDOW)
  renderLatency()
  const rows = Object.entries(offload.byPeer).sort((a, b) => b[1] - a[1])
  const top = Math.max(1, ...rows.map(r => r[1]))
  syncRows($('by-peer').tBodies[0], rows, r => r[0], 'data-peer-id', (tr, [id, count]) => {
    setText(cell(tr, 'peer'), names.get(id) ?? shortId(id))
    cell(tr, 'bar', 'bar').replaceChildren(meter(count / top, 2))
    setText(cell(tr, 'count', 'num'), count)
  })
  $('by-peer-empty').hidden = rows.length > 0
}

// ---------- federated ----------

function chooseRun (runs) {
  if (state.selectedRun != null && runs.some(r => r.id === state.selectedRun)) return runs.find(r => r.id === state.selectedRun)
  return runs.findLast(r => r.state === 'running') ?? runs.at(-1)
}

function renderRunTabs (runs, current) {
  const tabs = $('fed-runs')
  const key = runs.map(r => `${r.id}:${r.state}`).join(',') + `|${current.id}`
  if (tabs.dataset.key === key) return
  tabs.dataset.key = key
  tabs.hidden = runs.length < 2
  tabs.replaceChildren(...runs.map((r, i) => {
    const b = el('button', { type: 'button', role: 'tab', 'data-run-id': r.id, 'aria-selected': String(r.id === current.id), title: r.id }, `run ${i + 1} · ${r.state}`)
    b.addEventListener('click', () => { state.selectedRun = r.id; if (state.last) render(state.last) })
    return b
  }))
}

/**
 * A loss tick, two significant digits, that fits the chart's 44 px right margin:
 * 0, 0.42, 3.1, 120, 1e-4, 6.5e-10, 1.5e+3 (never toPrecision's "5.0e-10", nor "2e+3" marking 1500).
 */
function formatLossTick (v) {
  if (v === 0) return '0'
  const rounded = Number(v.toPrecision(2))
  return v >= 1000 || v < 0.01 ? rounded.toExponential() : String(rounded)
}

function renderFedChart (history) {
  const root = $('fed-chart')
  const key = JSON.stringify(history.map(h => [h.round, h.accuracy, h.loss, h.failures]))
  if (root.dataset.key === key) return
  root.dataset.key = key
  const W = 480; const H = 180; const L = 34; const R = 44; const T = 10; const B = 22
  const losses = history.map(h => h.loss).filter(Number.isFinite)
  // No finite loss yet: no loss labels (a 1e-9 placeholder printed "1.0e-9" and a clipped "5.0e-1(").
  const maxLoss = losses.length === 0 ? 1 : Math.max(...losses) || 1
  const rounds = history.map(h => h.round)
  const first = Math.min(...rounds, 1); const last = Math.max(...rounds, first + 1)
  const x = (round) => L + ((round - first) / (last - first)) * (W - L - R)
  const yAcc = (a) => T + (1 - Math.max(0, Math.min(1, a))) * (H - T - B)
  const yLoss = (l) => T + (1 - l / maxLoss) * (H - T - B)
  const parts = [svg('line', { class: 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B })]
  for (const a of [0, 0.5, 1]) {
    parts.push(svg('line', { class: 'axis', x1: L, y1: yAcc(a), x2: W - R, y2: yAcc(a) }))
    parts.push(svg('text', { x: L - 4, y: yAcc(a) + 3, 'text-anchor': 'end', 'data-axis': 'accuracy' }, `${a * 100}%`))
    if (losses.length > 0) parts.push(svg('text', { x: W - R + 4, y: yAcc(a) + 3, 'data-axis': 'loss' }, formatLossTick(maxLoss * a)))
  }
  const ticks = new Set([first, last, ...rounds.filter((_, i) => rounds.length <= 12 || i % Math.ceil(rounds.length / 10) === 0)])
  for (const t of ticks) if (Number.isFinite(t)) parts.push(svg('text', { x: x(t), y: H - 6, 'text-anchor': 'middle', 'data-axis': 'round' }, `${t}`))
  if (history.length > 0) {
    parts.push(svg('polyline', { class: 'acc', points: history.map(h => `${x(h.round)},${yAcc(h.accuracy)}`).join(' ') }))
    parts.push(svg('polyline', { class: 'loss', points: history.map(h => `${x(h.round)},${yLoss(h.loss)}`).join(' ') }))
  }
  for (const h of history) {
    const g = svg('g', { 'data-round': h.round, 'data-accuracy': h.accuracy, 'data-loss': h.loss })
    g.append(svg('title', {}, `round ${h.round}: accuracy ${formatPct(h.accuracy)}, loss ${formatNum(h.loss)}, ${h.participants} participants, ${h.failures} failures`))
    g.append(svg('circle', { class: 'acc', cx: x(h.round), cy: yAcc(h.accuracy), r: 3 }))
    g.append(svg('circle', { class: 'loss', cx: x(h.round), cy: yLoss(h.loss), r: 3 }))
    if (h.failures > 0) g.append(svg('circle', { class: 'bad', cx: x(h.round), cy: H - B, r: 2.5 }))
    parts.push(g)
  }
  root.replaceChildren(...parts)
}

function renderFederated (runs) {
  $('fed-empty').hidden = runs.length > 0
  $('fed-body').hidden = runs.length === 0
  if (runs.length === 0) return
  const run = chooseRun(runs)
  renderRunTabs(runs, run)
  const badge = $('fed-state')
  setText(badge, run.waiting ? 'waiting for clients' : run.state)
  badge.dataset.value = run.waiting ? 'waiting' : run.state
  $('fed-waiting').hidden = !run.waiting
  if (run.waiting) setText($('fed-waiting'), run.waiting)
  setText($('fed-strategy'), run.strategy)
  setText($('fed-progress'), `${run.completedRounds} / ${run.rounds}`)
  // Before round 1 the run's model is the untrained base model: not a result to show.
  const globalModel = run.completedRounds > 0 ? run.globalModelId : undefined
  setText($('fed-global-model'), globalModel ? shortId(globalModel) : '–')
  $('fed-global-model').title = globalModel ?? ''
  $('fed-global-model').dataset.modelId = globalModel ?? ''
  $('fed-error').hidden = run.error == null
  if (run.error != null) setText($('fed-error'), `${run.error.name}: ${run.error.message}`)
  renderFedChart(run.history)
  syncRows($('fed-rounds').tBodies[0], [...run.history].reverse(), h => String(h.round), 'data-round', (tr, h) => {
    setText(cell(tr, 'round', 'num'), h.round)
    setText(cell(tr, 'accuracy', 'num'), formatPct(h.accuracy))
    setText(cell(tr, 'loss', 'num'), formatNum(h.loss))
    setText(cell(tr, 'participants', 'num'), h.participants)
    const failures = cell(tr, 'failures', 'num')
    setText(failures, h.failures)
    failures.title = h.failureReasons.join('\n')
    setText(cell(tr, 'wall', 'num'), formatMs(h.wallMs))
    // privacy spent up to this round, when the run adds DP noise (privacy-wire)
    setText(cell(tr, 'epsilon', 'num'), h.epsilon == null ? '–' : `${Number.isFinite(h.epsilon) ? h.epsilon.toFixed(2) : '∞'} (${h.delta})`)
  })
}

// ---------- snapshot loop ----------

/** Peer id → name, for the per-peer offload table. */
const names = new Map()

function render (snapshot) {
  state.last = snapshot
  for (const p of snapshot.status.peers) if (p.name) names.set(p.peerId, p.name)
  names.set(snapshot.status.peerId, `${snapshot.status.name || 'this node'} (this node)`)
  renderNode(snapshot.status)
  renderFleet(snapshot.fleet, snapshot.status)
  renderTopology(snapshot.topology, snapshot.status.peerId)
  renderFederated(snapshot.federated)
}

function onSnapshot (snapshot) {
  render(snapshot)
  renderOffload(snapshot.offload)
  state.snapshots++
  document.body.dataset.snapshots = String(state.snapshots)
  setText($('updated-at'), `updated ${new Date().toLocaleTimeString()}`)
}

function setConnection (value, text) {
  const conn = $('conn-state')
  conn.dataset.state = value
  setText(conn, text)
}

/**
 * The events URL: an API with a token is opened as `/#token=<token>`; the
 * fragment never leaves the browser, and EventSource cannot set headers, so
 * the token travels as RFC 6750's `access_token` query parameter.
 */
function eventsUrl () {
  const token = new URLSearchParams(location.hash.slice(1)).get('token')
  return token == null || token === '' ? '/events' : `/events?access_token=${encodeURIComponent(token)}`
}

function connect () {
  const source = new EventSource(eventsUrl())
  source.addEventListener('open', () => { setConnection('live', 'live') })
  source.addEventListener('error', () => { setConnection('reconnecting', 'reconnecting…') })
  source.addEventListener('snapshot', (event) => {
    setConnection('live', 'live')
    try {
      onSnapshot(JSON.parse(event.data))
    } catch (err) {
      console.error('edge-mesh dashboard: could not render a snapshot', err)
    }
  })
}

connect()
