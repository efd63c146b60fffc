// edge-mesh dashboard: the whole mesh. The fleet table (every node's load and
// offload traffic) and the graph of who is connected to whom, drawn from the
// snapshot's `fleet` and `topology`, which this node assembles from every
// node's load report (version 3 carries neighbours and traffic counters).
// Loaded before dashboard.js, whose helpers (setText, el, svg, cell, …) it
// calls at render time.
'use strict'

// ---------- fleet table ----------

const STATE_TEXT = { self: 'this node', connected: 'connected', gossip: 'gossip only' }

/** One row of the fleet table: a node's load and offload traffic (from its report, or live for this node). */
function fillNodeRow (tr, node) {
  const load = node.load
  const stateValue = node.self ? 'self' : node.connected ? 'connected' : 'gossip'
  tr.dataset.connected = String(node.connected)
  tr.dataset.self = String(node.self)
  tr.dataset.seq = node.seq == null ? '' : String(node.seq)
  const who = cell(tr, 'peer')
  const name = node.name || shortId(node.peerId)
  if (who.dataset.name !== name) {
    who.dataset.name = name
    who.replaceChildren(el('span', { class: 'peer-name' }, name), el('span', { class: 'peer-id', title: node.peerId }, shortId(node.peerId)))
  }
  setText(cell(tr, 'role'), node.role ?? '–')
  const st = cell(tr, 'state')
  if (st.firstChild?.dataset?.value !== stateValue) {
    st.replaceChildren(el('span', { class: 'state', 'data-value': stateValue }, STATE_TEXT[stateValue]))
  }
  const cpu = cell(tr, 'cpu', 'num')
  cpu.replaceChildren(...(load == null ? ['–'] : [meter(load.cpu), formatPct(load.cpu)]))
  setText(cell(tr, 'memFree', 'num'), formatBytes(load?.memFree))
  setText(cell(tr, 'inFlight', 'num'), load?.inFlight ?? '–')
  setText(cell(tr, 'queued', 'num'), load?.queued ?? '–')
  setText(cell(tr, 'capacity', 'num'), load?.capacity ?? '–')
  const models = cell(tr, 'models', 'num')
  setText(models, load?.models.length ?? '–')
  models.title = load?.models.join('\n') ?? ''
  const training = cell(tr, 'training', 'training')
  training.dataset.value = String(load?.training ?? false)
  setText(training, load == null ? '–' : load.training ? 'training' : 'idle')
  setText(cell(tr, 'links', 'num'), node.connections ?? '–')
  for (const field of ['servedLocally', 'servedRemotely', 'servedForPeers']) {
    setText(cell(tr, field, 'num'), node.traffic?.[field] ?? '–')
  }
  const age = cell(tr, 'age', 'num')
  setText(age, node.self ? 'live' : node.reportAgeMs == null ? '–' : `${formatMs(node.reportAgeMs)} ago`)
  age.title = node.seq == null ? 'no load report' : `report #${node.seq}`
}

function renderFleet (fleet, status) {
  const seqs = new Map(status.peers.map(p => [p.peerId, p.load?.seq]))
  const rows = fleet.nodes.map(n => ({ ...n, seq: n.self ? status.load?.seq : seqs.get(n.peerId) }))
  syncRows($('peer-table').tBodies[0], rows, n => n.peerId, 'data-peer-id', fillNodeRow)
  const peers = status.peers
  $('peers-empty').hidden = peers.length > 0
  const t = fleet.totals
  setText($('peer-count'), `${t.nodes} ${t.nodes === 1 ? 'node' : 'nodes'} · ${peers.filter(p => p.connected).length} connected to this one`)
  const totals = $('fleet-totals')
  const field = (name) => totals.querySelector(`td[data-field="${name}"]`)
  setText(field('reporting'), `${t.reporting} of ${t.nodes} reporting`)
  for (const name of ['inFlight', 'queued', 'capacity', 'servedLocally', 'servedRemotely', 'servedForPeers']) setText(field(name), t[name])
}

// ---------- topology ----------

function renderTopology (topology, selfId) {
  const root = $('topology')
  const key = JSON.stringify(topology)
  if (root.dataset.key === key) return
  root.dataset.key = key
  const W = 360; const H = 260; const cx = W / 2; const cy = H / 2 - 4; const r = Math.min(W, H) / 2 - 40
  const direct = new Set(topology.links.filter(l => l.includes(selfId)).flat())
  const nodes = topology.nodes
  const pos = new Map(nodes.map((n, i) => {
    if (nodes.length === 1) return [n.id, [cx, cy]]
    const a = -Math.PI / 2 + (2 * Math.PI * i) / nodes.length
    return [n.id, [cx + r * Math.cos(a), cy + r * Math.sin(a)]]
  }))
  const parts = []
  for (const [a, b] of topology.links) {
    const pa = pos.get(a); const pb = pos.get(b)
    if (pa == null || pb == null) continue
    const own = a === selfId || b === selfId
    parts.push(svg('line', { class: own ? 'link own' : 'link reported', x1: pa[0], y1: pa[1], x2: pb[0], y2: pb[1], 'data-link': `${a} ${b}` }))
  }
  for (const n of nodes) {
    const [x, y] = pos.get(n.id)
    const kind = n.id === selfId ? 'self' : direct.has(n.id) ? 'peer' : 'gossip'
    const g = svg('g', { class: `node ${kind} ${n.role}`, 'data-node-id': n.id })
    g.append(svg('title', {}, `${n.name || n.id}\n${n.id}\n${n.role}`))
    g.append(svg('circle', { cx: x, cy: y, r: n.id === selfId ? 11 : 9 }))
    // Labels sit outside the circle, away from the links: above nodes in the top half, below the others.
    const above = nodes.length > 1 && y < cy - 1
    g.append(svg('text', { x, y: above ? y - 25 : y + 24 }, n.name || shortId(n.id)))
    g.append(svg('text', { x, y: above ? y - 14 : y + 35, class: 'sub' }, n.role))
    parts.push(g)
  }
  root.replaceChildren(...parts)
  setText($('link-count'), `${nodes.length} ${nodes.length === 1 ? 'node' : 'nodes'} · ${topology.links.length} ${topology.links.length === 1 ? 'link' : 'links'}`)
  const unlisted = topology.unlisted ?? 0
  $('topology-unlisted').hidden = unlisted === 0
  setText($('topology-unlisted'), `${unlisted} more ${unlisted === 1 ? 'link is' : 'links are'} not drawn: a load report lists at most 16 neighbours.`)
}
