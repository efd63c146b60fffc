/**
 * Constants of the weight-record byte layout shared by the encoder
 * (`codec.ts`) and the decoder (`codec-decoder.ts`); see docs/protocols.md.
 */
import type { DType } from '../../model/types.js'

/** The four magic bytes "EMWR". */
export const WEIGHTS_MAGIC = new Uint8Array([0x45, 0x4D, 0x57, 0x52])
/** The layout version this code writes and reads. */
export const WEIGHTS_VERSION = 1
/** Size of the record header in bytes. */
export const RECORD_HEADER_BYTES = 12
/** Wire codes of the dtypes. */
export const DTYPE_CODES: Record<DType, number> = { float32: 1, int32: 2 }
/** Bytes per element of every supported dtype. */
export const BYTES_PER_ELEMENT = 4

/** True on little-endian hosts, where tensor data is sent as views without copying. */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1
