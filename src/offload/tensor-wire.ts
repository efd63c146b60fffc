/**
 * The building blocks of the `/edge-mesh/infer/1.0.0` codec: the binary form
 * of a tensor, read with the bounds-checked `FrameCursor` of `src/wire`.
 *
 * A tensor on the wire is `dtype u8, rank u8, rank x dim u32, byteLength u32,
 * 0-3 zero pad bytes, data`, header integers big-endian and element bytes
 * little-endian. The pad puts the data at a multiple of 4 bytes from the start
 * of the frame, so a decoder whose frame buffer is aligned can view the data in
 * place instead of copying it.
 */
import { InvalidMessageError, InvalidTensorError, MessageTooLargeError } from '../errors.js'
import { MAX_TENSORS, MAX_TENSOR_RANK } from './constants.js'
import { FrameCursor } from '../wire/frame-cursor.js'
import type { FrameArrays } from './array-pool.js'
import type { DType, TensorData } from '../model/types.js'

/** Re-exported for the infer codec, which reads its frames with it. */
export { FrameCursor }

/** Wire codes of element types. float32 and int32 have 4-byte elements. */
export const DTYPE_CODES: Readonly<Record<DType, number>> = { float32: 1, int32: 2 }
const DTYPES_BY_CODE: ReadonlyMap<number, DType> = new Map([[1, 'float32'], [2, 'int32']])
/**
 * Wire code of int32 values sent as one byte each (`/edge-mesh/infer/1.1.0`
 * only): every value was in 0..255, and the receiver widens them back to int32.
 */
export const WIRE_UINT8 = 3
/**
 * Wire code of float32 values sent as one byte each (`/edge-mesh/infer/1.1.0`
 * only): every value was exactly `UNIT_BYTE_VALUES[k]`, the float32 nearest
 * k / 255 for a byte k (an 8-bit image scaled to [0, 1]), bit for bit; the
 * receiver rebuilds the same float32 values.
 */
export const WIRE_UNIT_BYTE = 4

/** The float32 value of each unit byte k: `Math.fround(k / 255)`. */
export const UNIT_BYTE_VALUES: Float32Array = Float32Array.from({ length: 256 }, (_, k) => k / 255)
const ELEMENT_BYTES = 4
const MAX_U32 = 0xffff_ffff
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/** Bytes needed to move `offset` up to a multiple of 4. */
export function padTo4 (offset: number): number {
  return (4 - (offset % 4)) % 4
}

/** Product of a shape's dimensions, saturating at MAX_SAFE_INTEGER instead of losing precision. */
export function elementCount (shape: readonly number[]): number {
  let count = 1
  for (const dim of shape) count = Math.min(count * dim, Number.MAX_SAFE_INTEGER)
  return count
}

/** Values `likelyByteWidth` looks at, evenly spaced over the tensor. */
const BYTE_WIDTH_SAMPLES = 64

/**
 * Bytes per value a tensor will probably take on infer 1.1.0: 1 when every
 * value of an evenly spaced sample of `BYTE_WIDTH_SAMPLES` would travel as a
 * byte (int32 in 0..255, or float32 exactly k / 255), else 4. An estimate for
 * scheduling, in constant time: the encoder still checks every value.
 */
export function likelyByteWidth (tensor: TensorData): 1 | 4 {
  const data = tensor.data
  if (data == null || data.length === 0) return 4
  const step = Math.max(1, Math.floor(data.length / BYTE_WIDTH_SAMPLES))
  const travels = tensor.dtype === 'int32' ? isByte : isUnitByte
  for (let i = 0; i < data.length; i += step) if (!travels(data[i])) return 4
  return 1
}

const isByte = (v: number): boolean => v >= 0 && v <= 255
/** `v` is exactly some k / 255 as float32 (and not -0, which stays float32 on the wire). */
const isUnitByte = (v: number): boolean => UNIT_BYTE_VALUES[(v * 255 + 0.5) | 0] === v && !Object.is(v, -0)

/** Check that a tensor can be put on the wire. Throws InvalidTensorError. */
export function checkTensor (tensor: TensorData, what: string): void {
  const arrayOk = tensor.dtype === 'float32' ? tensor.data instanceof Float32Array : tensor.dtype === 'int32' && tensor.data instanceof Int32Array
  if (!arrayOk) throw new InvalidTensorError(`${what}: dtype ${String(tensor.dtype)} does not match its data array`)
  if (tensor.shape.length > MAX_TENSOR_RANK) throw new InvalidTensorError(`${what}: rank ${tensor.shape.length} exceeds ${MAX_TENSOR_RANK}`)
  if (!tensor.shape.every(d => Number.isInteger(d) && d >= 0 && d <= MAX_U32)) throw new InvalidTensorError(`${what}: shape [${tensor.shape.join(', ')}] has an invalid dimension`)
  if (elementCount(tensor.shape) !== tensor.data.length) throw new InvalidTensorError(`${what}: shape [${tensor.shape.join(', ')}] does not match ${tensor.data.length} values`)
}

/** Encoded size of a tensor whose header starts at `offset` in the frame. */
export function tensorWireBytes (tensor: TensorData, offset: number): number {
  const header = 2 + 4 * tensor.shape.length + 4
  return header + padTo4(offset + header) + tensor.data.byteLength
}

/** The element bytes of a tensor in little-endian order: a view on little-endian hosts. */
export function littleEndianBytes (data: Float32Array | Int32Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  if (HOST_IS_LITTLE_ENDIAN) return bytes
  const out = new Uint8Array(bytes.length)
  for (let i = 0; i < bytes.length; i += 4) {
    out[i] = bytes[i + 3]; out[i + 1] = bytes[i + 2]; out[i + 2] = bytes[i + 1]; out[i + 3] = bytes[i]
  }
  return out
}

/** A tensor header (dtype code, rank, dims, byte length) with the pad that puts its data at a multiple of 4 from the frame start. */
export function tensorHeader (code: number, shape: readonly number[], byteLength: number, offset: number): Uint8Array {
  const bytes = 2 + 4 * shape.length + 4
  const header = new Uint8Array(bytes + padTo4(offset + bytes))
  const view = new DataView(header.buffer)
  view.setUint8(0, code)
  view.setUint8(1, shape.length)
  shape.forEach((dim, i) => { view.setUint32(2 + 4 * i, dim) })
  view.setUint32(2 + 4 * shape.length, byteLength)
  return header
}

/**
 * Encode a tensor whose header starts at `offset` in the frame. Returns the
 * header (with its pad) and the data as separate chunks so the data is not copied.
 */
export function encodeTensor (tensor: TensorData, offset: number): [Uint8Array, Uint8Array] {
  return [tensorHeader(DTYPE_CODES[tensor.dtype], tensor.shape, tensor.data.byteLength, offset), littleEndianBytes(tensor.data)]
}

/** A copy in a fresh (aligned) buffer; not `slice()`, which on a Node Buffer is a view. */
function copyOf (bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length)
  out.set(bytes)
  return out
}

/**
 * Typed-array data over little-endian element bytes: a view when aligned on a
 * little-endian host; when misaligned (a frame that starts at an odd offset of
 * its buffer), one native copy of the bytes and a view on the copy.
 */
function typedData (dtype: DType, bytes: Uint8Array): Float32Array | Int32Array {
  const count = bytes.length / ELEMENT_BYTES
  if (HOST_IS_LITTLE_ENDIAN) {
    const aligned = bytes.byteOffset % ELEMENT_BYTES === 0 ? bytes : copyOf(bytes)
    return dtype === 'float32' ? new Float32Array(aligned.buffer, aligned.byteOffset, count) : new Int32Array(aligned.buffer, aligned.byteOffset, count)
  }
  const out = dtype === 'float32' ? new Float32Array(count) : new Int32Array(count)
  const src = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < count; i++) {
    out[i] = dtype === 'float32' ? src.getFloat32(i * 4, true) : src.getInt32(i * 4, true)
  }
  return out
}

/** int32 data from one byte per value (the `WIRE_UINT8` encoding): one native widening copy. */
function widened (bytes: Uint8Array, arrays?: FrameArrays): Int32Array {
  const out = arrays?.take(Int32Array, bytes.length) ?? new Int32Array(bytes.length)
  out.set(bytes)
  return out
}

/** float32 data from unit bytes (the `WIRE_UNIT_BYTE` encoding): a table lookup per value. */
function unitValues (bytes: Uint8Array, arrays?: FrameArrays): Float32Array {
  const out = arrays?.take(Float32Array, bytes.length) ?? new Float32Array(bytes.length)
  for (let i = 0; i < bytes.length; i++) out[i] = UNIT_BYTE_VALUES[bytes[i]]
  return out
}

/**
 * Decode one tensor at the cursor, validating dtype, rank, dims, length and
 * pad. `uint8` allows the one-byte codes of 1.1.0 request frames:
 * `WIRE_UINT8`, decoded as int32, and `WIRE_UNIT_BYTE`, decoded as float32,
 * into arrays borrowed from `arrays` when given (see `array-pool.ts`).
 */
export function decodeTensor (cursor: FrameCursor, what: string, uint8 = false, arrays?: FrameArrays): TensorData {
  const code = cursor.u8(`${what} dtype`)
  if (uint8 && code === WIRE_UINT8) return decodeByteTensor(cursor, what, 'int32', arrays)
  if (uint8 && code === WIRE_UNIT_BYTE) return decodeByteTensor(cursor, what, 'float32', arrays)
  const dtype = DTYPES_BY_CODE.get(code)
  if (dtype == null) throw new InvalidMessageError(`${what}: unknown dtype code`)
  const shape = readShape(cursor, what)
  const byteLength = cursor.u32(`${what} byte length`)
  checkPad(cursor, what)
  if (byteLength % ELEMENT_BYTES !== 0) throw new InvalidMessageError(`${what}: byte length ${byteLength} is not a multiple of ${ELEMENT_BYTES}`)
  if (elementCount(shape) !== byteLength / ELEMENT_BYTES) throw new InvalidMessageError(`${what}: shape [${shape.join(', ')}] does not match ${byteLength} bytes`)
  return { dtype, shape, data: typedData(dtype, cursor.take(byteLength, `${what} data`)) }
}

function readShape (cursor: FrameCursor, what: string): number[] {
  const rank = cursor.u8(`${what} rank`)
  if (rank > MAX_TENSOR_RANK) throw new InvalidMessageError(`${what}: rank ${rank} exceeds ${MAX_TENSOR_RANK}`)
  const shape: number[] = []
  for (let i = 0; i < rank; i++) shape.push(cursor.u32(`${what} dims`))
  return shape
}

function checkPad (cursor: FrameCursor, what: string): void {
  const pad = cursor.take(padTo4(cursor.offset), `${what} pad`)
  if (pad.some(b => b !== 0)) throw new InvalidMessageError(`${what}: non-zero pad byte`)
}

/** A tensor sent one byte per value: int32 widened from `WIRE_UINT8`, float32 rebuilt from `WIRE_UNIT_BYTE`. */
function decodeByteTensor (cursor: FrameCursor, what: string, dtype: DType, arrays?: FrameArrays): TensorData {
  const shape = readShape(cursor, what)
  const byteLength = cursor.u32(`${what} byte length`)
  checkPad(cursor, what)
  if (elementCount(shape) !== byteLength) throw new InvalidMessageError(`${what}: shape [${shape.join(', ')}] does not match ${byteLength} bytes`)
  const bytes = cursor.take(byteLength, `${what} data`)
  return { dtype, shape, data: dtype === 'int32' ? widened(bytes, arrays) : unitValues(bytes, arrays) }
}

/** Decode a tensor count and that many tensors (`uint8`: see `decodeTensor`). */
export function decodeTensors (cursor: FrameCursor, what: string, uint8 = false, arrays?: FrameArrays): TensorData[] {
  const count = cursor.u8(`${what} count`)
  if (count > MAX_TENSORS) throw new InvalidMessageError(`${count} ${what} exceed ${MAX_TENSORS}`)
  const tensors: TensorData[] = []
  for (let i = 0; i < count; i++) tensors.push(decodeTensor(cursor, `${what} ${i}`, uint8, arrays))
  return tensors
}

/** Check a tensor list before encoding it. */
export function checkTensors (tensors: TensorData[], what: string): void {
  if (tensors.length > MAX_TENSORS) throw new MessageTooLargeError(`${tensors.length} ${what} exceed ${MAX_TENSORS}`)
  tensors.forEach((t, i) => { checkTensor(t, `${what} ${i}`) })
}
