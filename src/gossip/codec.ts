/**
 * Binary encoding of load reports on `/edge-mesh/load/1`.
 * The byte layout is specified in docs/protocols.md ("Load reports"):
 * version 2 adds the sender's heartbeat interval after `capacity`; version 3
 * appends the sender's offload counters, connection count and up to 16
 * neighbours after the addresses. Version 1 and 2 reports are still decoded.
 * `decodeLoadReport` validates every field and throws InvalidMessageError
 * or MessageTooLargeError; it never reads past the input or allocates more
 * than the input's size.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidMessageError, MessageTooLargeError } from '../errors.js'
import {
  LOAD_REPORT_VERSION, LOAD_REPORT_VERSION_1, LOAD_REPORT_VERSION_2, MAX_ADDRS, MAX_HEARTBEAT_INTERVAL_MS, MAX_ADDR_BYTES, MAX_BACKEND_BYTES, MAX_MODELS,
  MAX_MODEL_ID_BYTES, MAX_NAME_BYTES, MAX_REPORT_BYTES
} from './constants.js'
import { decodeMeshTrailer, encodeMeshTrailer } from './mesh-trailer.js'
import type { LoadReport } from './types.js'

const FLAG_TRAINING = 0b01
const FLAG_SEED = 0b10
const FLAG_CAN_TRAIN = 0b100
/** Bytes before the strings: version 1 fields, plus version 2's u32 heartbeat interval. */
const FIXED_BYTES = 1 + 1 + 8 + 8 + 2 + 8 + 2 + 2 + 2 + 4
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

function clampInt (value: number, max: number): number {
  if (!Number.isFinite(value) || value < 0) return 0
  return Math.min(Math.round(value), max)
}

function utf8 (value: string, maxBytes: number, what: string): Uint8Array {
  const bytes = encoder.encode(value)
  if (bytes.length > maxBytes) throw new MessageTooLargeError(`${what} is longer than ${maxBytes} bytes`)
  return bytes
}

/** Encode a report. Throws MessageTooLargeError when a field exceeds its limit. */
export function encodeLoadReport (report: LoadReport): Uint8Array {
  if (report.models.length > MAX_MODELS) throw new MessageTooLargeError(`more than ${MAX_MODELS} models`)
  if (report.addrs.length > MAX_ADDRS) throw new MessageTooLargeError(`more than ${MAX_ADDRS} addresses`)
  const backend = utf8(report.backend, MAX_BACKEND_BYTES, 'backend')
  const name = utf8(report.name, MAX_NAME_BYTES, 'name')
  const models = report.models.map(m => utf8(m, MAX_MODEL_ID_BYTES, 'model id'))
  const addrs = report.addrs.map(a => {
    const bytes = multiaddr(a).bytes
    if (bytes.length > MAX_ADDR_BYTES) throw new MessageTooLargeError('address too long')
    return bytes
  })
  const trailer = encodeMeshTrailer(report)
  const size = FIXED_BYTES + 1 + backend.length + 1 + name.length +
    1 + models.reduce((n, m) => n + 1 + m.length, 0) +
    1 + addrs.reduce((n, a) => n + 2 + a.length, 0) + trailer.length
  if (size > MAX_REPORT_BYTES) throw new MessageTooLargeError(`report of ${size} bytes exceeds ${MAX_REPORT_BYTES}`)

  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let o = 0
  view.setUint8(o, LOAD_REPORT_VERSION); o += 1
  view.setUint8(o, (report.training ? FLAG_TRAINING : 0) | (report.role === 'seed' ? FLAG_SEED : 0) | (report.canTrain ? FLAG_CAN_TRAIN : 0)); o += 1
  view.setBigUint64(o, BigInt(clampInt(report.seq, Number.MAX_SAFE_INTEGER))); o += 8
  view.setBigUint64(o, BigInt(clampInt(report.timestamp, Number.MAX_SAFE_INTEGER))); o += 8
  view.setUint16(o, clampInt(report.cpu * 10_000, 10_000)); o += 2
  view.setBigUint64(o, BigInt(clampInt(report.memFree, Number.MAX_SAFE_INTEGER))); o += 8
  view.setUint16(o, clampInt(report.inFlight, 0xffff)); o += 2
  view.setUint16(o, clampInt(report.queued, 0xffff)); o += 2
  view.setUint16(o, clampInt(report.capacity, 0xffff)); o += 2
  view.setUint32(o, clampInt(report.intervalMs ?? 0, MAX_HEARTBEAT_INTERVAL_MS)); o += 4
  const putBytes = (bytes: Uint8Array, lengthBytes: 1 | 2): void => {
    if (lengthBytes === 1) view.setUint8(o, bytes.length)
    else view.setUint16(o, bytes.length)
    o += lengthBytes
    out.set(bytes, o); o += bytes.length
  }
  putBytes(backend, 1)
  putBytes(name, 1)
  view.setUint8(o, models.length); o += 1
  for (const m of models) putBytes(m, 1)
  view.setUint8(o, addrs.length); o += 1
  for (const a of addrs) putBytes(a, 2)
  out.set(trailer, o)
  return out
}

/** A bounds-checked reader over one report's bytes. */
export class Reader {
  private offset = 0
  private readonly view: DataView
  constructor (private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  private need (n: number, what: string): void {
    if (this.offset + n > this.bytes.length) throw new InvalidMessageError(`load report truncated in ${what}`)
  }

  u8 (what: string): number { this.need(1, what); return this.view.getUint8(this.offset++) }
  u16 (what: string): number { this.need(2, what); const v = this.view.getUint16(this.offset); this.offset += 2; return v }
  u32 (what: string): number { this.need(4, what); const v = this.view.getUint32(this.offset); this.offset += 4; return v }
  u64 (what: string): number {
    this.need(8, what)
    const v = this.view.getBigUint64(this.offset); this.offset += 8
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidMessageError(`${what} out of range`)
    return Number(v)
  }

  bytesOf (length: number, max: number, what: string): Uint8Array {
    if (length > max) throw new InvalidMessageError(`${what} longer than ${max} bytes`)
    this.need(length, what)
    const out = this.bytes.subarray(this.offset, this.offset + length)
    this.offset += length
    return out
  }

  text (max: number, what: string): string {
    try {
      return decoder.decode(this.bytesOf(this.u8(what), max, what))
    } catch (err: any) {
      if (err?.name === 'InvalidMessageError') throw err
      throw new InvalidMessageError(`${what} is not valid UTF-8`)
    }
  }

  done (): void {
    if (this.offset !== this.bytes.length) throw new InvalidMessageError('trailing bytes after load report')
  }
}

/** Decode and validate a report. Throws InvalidMessageError or MessageTooLargeError. */
export function decodeLoadReport (bytes: Uint8Array): LoadReport {
  if (bytes.length > MAX_REPORT_BYTES) throw new MessageTooLargeError(`load report of ${bytes.length} bytes exceeds ${MAX_REPORT_BYTES}`)
  const r = new Reader(bytes)
  const version = r.u8('version')
  if (version !== LOAD_REPORT_VERSION && version !== LOAD_REPORT_VERSION_2 && version !== LOAD_REPORT_VERSION_1) throw new InvalidMessageError(`unsupported load report version ${version}`)
  const flags = r.u8('flags')
  if ((flags & ~(FLAG_TRAINING | FLAG_SEED | FLAG_CAN_TRAIN)) !== 0) throw new InvalidMessageError('unknown flag bits set')
  const seq = r.u64('seq')
  const timestamp = r.u64('timestamp')
  const cpuBasisPoints = r.u16('cpu')
  if (cpuBasisPoints > 10_000) throw new InvalidMessageError('cpu above 100%')
  const memFree = r.u64('memFree')
  const inFlight = r.u16('inFlight')
  const queued = r.u16('queued')
  const capacity = r.u16('capacity')
  const intervalMs = version === LOAD_REPORT_VERSION_1 ? 0 : r.u32('heartbeat interval')
  if (intervalMs > MAX_HEARTBEAT_INTERVAL_MS) throw new InvalidMessageError(`heartbeat interval above ${MAX_HEARTBEAT_INTERVAL_MS} ms`)
  const backend = r.text(MAX_BACKEND_BYTES, 'backend')
  const name = r.text(MAX_NAME_BYTES, 'name')
  const modelCount = r.u8('model count')
  if (modelCount > MAX_MODELS) throw new InvalidMessageError(`more than ${MAX_MODELS} models`)
  const models: string[] = []
  for (let i = 0; i < modelCount; i++) models.push(r.text(MAX_MODEL_ID_BYTES, 'model id'))
  const addrCount = r.u8('address count')
  if (addrCount > MAX_ADDRS) throw new InvalidMessageError(`more than ${MAX_ADDRS} addresses`)
  const addrs: string[] = []
  for (let i = 0; i < addrCount; i++) {
    const raw = r.bytesOf(r.u16('address length'), MAX_ADDR_BYTES, 'address')
    try {
      addrs.push(multiaddr(raw).toString())
    } catch {
      throw new InvalidMessageError('address is not a valid multiaddr')
    }
  }
  const mesh = version === LOAD_REPORT_VERSION ? decodeMeshTrailer(r) : {}
  r.done()
  return {
    seq,
    timestamp,
    cpu: cpuBasisPoints / 10_000,
    memFree,
    inFlight,
    queued,
    capacity,
    ...(intervalMs > 0 ? { intervalMs } : {}),
    backend,
    models,
    training: (flags & FLAG_TRAINING) !== 0,
    canTrain: (flags & FLAG_CAN_TRAIN) !== 0,
    role: (flags & FLAG_SEED) !== 0 ? 'seed' : 'edge',
    name,
    addrs,
    ...mesh
  }
}
