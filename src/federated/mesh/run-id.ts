/**
 * Run ids bound to their coordinator: `run-<binding>-<time>-<random>`, where
 * `<binding>` is the first 20 hex digits (80 bits) of SHA-256 of the
 * coordinator's peer id string. A node accepts a run's summary on the
 * `/edge-mesh/fedruns/1` topic only when it is signed by a peer whose binding
 * matches the id, so a forger cannot take over another coordinator's run by
 * publishing a higher sequence number (it would need a key whose peer id
 * hashes to the same 80 bits). Ids stay valid directory names.
 */
import { createHash } from 'node:crypto'

/** Hex digits of the coordinator binding in a run id. */
export const RUN_ID_BINDING_HEX = 20

const BOUND_RUN_ID = new RegExp(`^run-([0-9a-f]{${RUN_ID_BINDING_HEX}})-[a-z0-9]+-[0-9a-f]+$`)

/** The binding of `peerId`: the leading hex digits of SHA-256 of its string form. */
export function runIdBinding (peerId: string): string {
  return createHash('sha256').update(peerId).digest('hex').slice(0, RUN_ID_BINDING_HEX)
}

/** A new run id coordinated by `coordinator`. */
export function newRunId (coordinator: string, now = Date.now()): string {
  const rand = Math.floor(Math.random() * 0xFFFFFF).toString(16).padStart(6, '0')
  return `run-${runIdBinding(coordinator)}-${now.toString(36)}-${rand}`
}

/** True when `id` is bound to `peerId` (ids of another form, e.g. from older versions, bind to no one). */
export function runIdBindsTo (id: string, peerId: string): boolean {
  const m = BOUND_RUN_ID.exec(id)
  return m !== null && m[1] === runIdBinding(peerId)
}
