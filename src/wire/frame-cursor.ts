/**
 * A bounds-checked reader over one binary control frame, shared by the
 * `/edge-mesh/infer/1.0.0` and `/edge-mesh/model/1.0.0` codecs. Integers are
 * big-endian (docs/protocols.md).
 */
import { InvalidMessageError } from '../errors.js'

/** A bounds-checked cursor over one frame. Every overrun is an InvalidMessageError. */
export class FrameCursor {
  offset = 0
  private readonly view: DataView

  constructor (readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  get remaining (): number {
    return this.bytes.length - this.offset
  }

  private need (n: number, what: string): void {
    if (n > this.remaining) throw new InvalidMessageError(`frame truncated in ${what}`)
  }

  u8 (what: string): number {
    this.need(1, what)
    return this.view.getUint8(this.offset++)
  }

  u16 (what: string): number {
    this.need(2, what)
    const value = this.view.getUint16(this.offset)
    this.offset += 2
    return value
  }

  u32 (what: string): number {
    this.need(4, what)
    const value = this.view.getUint32(this.offset)
    this.offset += 4
    return value
  }

  u64 (what: string): bigint {
    this.need(8, what)
    const value = this.view.getBigUint64(this.offset)
    this.offset += 8
    return value
  }

  take (n: number, what: string): Uint8Array {
    this.need(n, what)
    const out = this.bytes.subarray(this.offset, this.offset + n)
    this.offset += n
    return out
  }

  /** Throws unless every byte was consumed. */
  end (what: string): void {
    if (this.remaining !== 0) throw new InvalidMessageError(`${this.remaining} unexpected bytes after ${what}`)
  }
}
