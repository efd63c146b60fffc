/**
 * Example camera frames for the packaged vision models, drawn by code (no
 * downloads, no image library): a stick figure standing on a floor, for
 * MoveNet, and a face (skin-toned oval with eyes and mouth), for BlazeFace.
 * Frames are 8-bit RGB, row-major `[height, width, 3]`, and are stored as
 * binary PPM (`P6`), a format a few lines of code read and write.
 *
 * `frameTensor` turns a frame into a model input: int32 pixel values for
 * MoveNet (`[1, h, w, 3]`), or float32 values in [0, 1] for BlazeFace and
 * MobileNetV2.
 *
 * Write the frames as PPM files (view them with any image viewer):
 *
 * ```sh
 * npx tsc -p . && npx node dist/examples/inputs/frames.js [outDir]
 * ```
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { mulberry32 } from '../../src/model/random.js'
import type { TensorData } from '../../src/model/types.js'

/** An 8-bit RGB image. */
export interface Frame { width: number, height: number, rgb: Uint8Array }

type Rgb = [number, number, number]

function blank (width: number, height: number, seed: number): Frame {
  const random = mulberry32(seed)
  const rgb = new Uint8Array(width * height * 3)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // A wall that darkens towards the floor, with a little sensor noise.
      const shade = y < height * 0.8 ? 200 - 60 * (y / height) : 90
      const i = (y * width + x) * 3
      for (let c = 0; c < 3; c++) rgb[i + c] = Math.max(0, Math.min(255, Math.round(shade - 20 * c + 8 * (random() - 0.5))))
    }
  }
  return { width, height, rgb }
}

function fill (frame: Frame, inside: (x: number, y: number) => boolean, color: Rgb): void {
  for (let y = 0; y < frame.height; y++) {
    for (let x = 0; x < frame.width; x++) {
      if (inside(x, y)) frame.rgb.set(color, (y * frame.width + x) * 3)
    }
  }
}

/** A thick segment from (x0, y0) to (x1, y1). */
function limb (frame: Frame, x0: number, y0: number, x1: number, y1: number, thickness: number, color: Rgb): void {
  const dx = x1 - x0
  const dy = y1 - y0
  const length2 = dx * dx + dy * dy
  fill(frame, (x, y) => {
    const t = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / length2))
    return Math.hypot(x - (x0 + t * dx), y - (y0 + t * dy)) <= thickness / 2
  }, color)
}

/** A person standing with arms half raised, centred, filling most of the frame's height. */
export function personFrame (size = 192, seed = 1): Frame {
  const frame = blank(size, size, seed)
  const s = size / 192
  const skin: Rgb = [224, 172, 140]
  const shirt: Rgb = [40, 90, 180]
  const trousers: Rgb = [50, 50, 60]
  fill(frame, (x, y) => Math.hypot(x - 96 * s, y - 36 * s) <= 14 * s, skin)
  limb(frame, 96 * s, 52 * s, 96 * s, 110 * s, 30 * s, shirt)
  limb(frame, 84 * s, 58 * s, 58 * s, 86 * s, 10 * s, shirt)
  limb(frame, 58 * s, 86 * s, 44 * s, 62 * s, 9 * s, skin)
  limb(frame, 108 * s, 58 * s, 134 * s, 86 * s, 10 * s, shirt)
  limb(frame, 134 * s, 86 * s, 148 * s, 62 * s, 9 * s, skin)
  limb(frame, 88 * s, 110 * s, 82 * s, 176 * s, 12 * s, trousers)
  limb(frame, 104 * s, 110 * s, 110 * s, 176 * s, 12 * s, trousers)
  return frame
}

/** A face filling the middle of the frame: oval, hair, eyes, nose and mouth. */
export function faceFrame (size = 256, seed = 2): Frame {
  const frame = blank(size, size, seed)
  const c = size / 2
  const r = size * 0.28
  fill(frame, (x, y) => ((x - c) / r) ** 2 + ((y - c) / (1.3 * r)) ** 2 <= 1, [222, 170, 135])
  fill(frame, (x, y) => ((x - c) / (1.05 * r)) ** 2 + ((y - c + 0.9 * r) / (0.6 * r)) ** 2 <= 1 && y < c - 0.6 * r, [60, 40, 25])
  for (const side of [-1, 1]) {
    fill(frame, (x, y) => ((x - c - side * 0.38 * r) / (0.16 * r)) ** 2 + ((y - c + 0.15 * r) / (0.09 * r)) ** 2 <= 1, [250, 250, 250])
    fill(frame, (x, y) => Math.hypot(x - c - side * 0.38 * r, y - c + 0.15 * r) <= 0.07 * r, [40, 30, 20])
  }
  limb(frame, c, c - 0.05 * r, c, c + 0.3 * r, 0.1 * r, [200, 140, 110])
  limb(frame, c - 0.3 * r, c + 0.6 * r, c + 0.3 * r, c + 0.6 * r, 0.08 * r, [160, 60, 60])
  return frame
}

/** A frame as a `[1, h, w, 3]` model input: raw int32 pixel values, or float32 in [0, 1]. */
export function frameTensor (frame: Frame, dtype: 'int32' | 'float32'): TensorData {
  const shape = [1, frame.height, frame.width, 3]
  if (dtype === 'int32') return { shape, dtype, data: Int32Array.from(frame.rgb) }
  return { shape, dtype, data: Float32Array.from(frame.rgb, (v) => v / 255) }
}

/** Binary PPM (`P6`, maxval 255). */
export function encodePpm (frame: Frame): Uint8Array {
  const header = new TextEncoder().encode(`P6\n${frame.width} ${frame.height}\n255\n`)
  const out = new Uint8Array(header.length + frame.rgb.length)
  out.set(header)
  out.set(frame.rgb, header.length)
  return out
}

/** Read a binary PPM written by `encodePpm` (or any P6 file with maxval 255 and no comments). */
export function decodePpm (bytes: Uint8Array): Frame {
  const fields: string[] = []
  let offset = 0
  while (fields.length < 4) {
    while (/\s/.test(String.fromCharCode(bytes[offset]))) offset++
    let token = ''
    while (offset < bytes.length && !/\s/.test(String.fromCharCode(bytes[offset]))) token += String.fromCharCode(bytes[offset++])
    fields.push(token)
  }
  const [magic, width, height, maxval] = [fields[0], Number(fields[1]), Number(fields[2]), Number(fields[3])]
  if (magic !== 'P6' || maxval !== 255) throw new Error('not a binary PPM with maxval 255')
  const rgb = bytes.slice(offset + 1, offset + 1 + width * height * 3)
  if (rgb.length !== width * height * 3) throw new Error('PPM pixel data is truncated')
  return { width, height, rgb }
}

if (process.argv[1] != null && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outDir = process.argv[2] ?? 'frames'
  mkdirSync(outDir, { recursive: true })
  for (const [name, frame] of [['person-192.ppm', personFrame()], ['face-256.ppm', faceFrame()]] as const) {
    writeFileSync(path.join(outDir, name), encodePpm(frame))
    console.log(`wrote ${path.join(outDir, name)} (${frame.width}x${frame.height})`)
  }
}
