/**
 * The `--data` setting of a node: which local data sets it trains on.
 *
 * ```
 * data   = spec *("," spec)                  several specs = several virtual clients on one node
 * spec   = "mnist:test"                      held-out digits 8000..9999 (coordinators evaluate on it)
 *        | "mnist:" shard "/" of *(":" opt)  shard `shard` (from 0) of `of` shards of digits 0..7999
 *        | <directory>                       a data set in the loadDatasetDir format
 * opt    = "iid" | "noniid" | "dirichlet=" alpha | "seed=" integer     (default iid, seed 0)
 * ```
 *
 * A shard is cut with the core's seeded partition (`partitionIndices` with
 * seed `deriveSeed(seed, 1)`, as `runMnistExperiment` does), so the same spec
 * names the same digits on every node and in simulation.
 */
import { InvalidConfigError } from '../../errors.js'
import { loadDatasetDir, loadMnist, sliceDataset, subsetDataset } from '../../model/datasets.js'
import { partitionIndices } from '../partition.js'
import { deriveSeed } from '../rng.js'
import type { Dataset } from '../../model/types.js'

/** Digits 0..7999 of `loadMnist()` are the clients' shards, 8000..9999 the held-out test set (`mnist:test`). */
export const MNIST_TRAIN_END = 8000

/** One parsed data spec. */
export type DataSpec =
  | { kind: 'mnist-test' }
  | { kind: 'mnist-shard', shard: number, of: number, scheme: string, seed: number }
  | { kind: 'dir', path: string }

/** Most virtual clients one node may hold. */
export const MAX_VIRTUAL_CLIENTS = 256

function fail (spec: string, why: string): never {
  throw new InvalidConfigError(`data spec "${spec}": ${why} (expected mnist:<shard>/<of>[:iid|:noniid|:dirichlet=<alpha>][:seed=<s>], mnist:test or a directory)`)
}

function parseInteger (spec: string, text: string, what: string, min: number): number {
  if (!/^\d+$/.test(text)) fail(spec, `${what} "${text}" is not a whole number`)
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < min) fail(spec, `${what} must be >= ${min}, got ${text}`)
  return n
}

function parseOptions (spec: string, options: string[]): { scheme: string, seed: number } {
  let scheme: string | undefined
  let seed = 0
  const setScheme = (s: string): void => {
    if (scheme !== undefined) fail(spec, 'more than one partition scheme')
    scheme = s
  }
  for (const opt of options) {
    if (opt === 'iid' || opt === 'noniid') setScheme(opt)
    else if (opt.startsWith('dirichlet=')) {
      const alpha = opt.slice('dirichlet='.length)
      if (!/^\d+(\.\d+)?(e-?\d+)?$/.test(alpha) || !(Number(alpha) > 0)) fail(spec, `dirichlet alpha must be a number > 0, got "${alpha}"`)
      setScheme(`dirichlet:${alpha}`)
    } else if (opt.startsWith('seed=')) seed = parseInteger(spec, opt.slice('seed='.length), 'seed', 0)
    else fail(spec, `unknown option "${opt}"`)
  }
  return { scheme: scheme ?? 'iid', seed }
}

/** Parse one spec (no comma). */
export function parseDataSpec (spec: string): DataSpec {
  const text = spec.trim()
  if (text === '') fail(spec, 'empty')
  if (!text.startsWith('mnist:')) return { kind: 'dir', path: text }
  const [head, ...options] = text.slice('mnist:'.length).split(':')
  if (head === 'test') {
    if (options.length > 0) fail(spec, 'mnist:test takes no options')
    return { kind: 'mnist-test' }
  }
  const m = /^([^/]*)\/([^/]*)$/.exec(head)
  if (m === null) fail(spec, 'expected <shard>/<of>')
  const shard = parseInteger(spec, m[1], 'shard', 0)
  const of = parseInteger(spec, m[2], 'shard count', 1)
  if (of > MNIST_TRAIN_END) fail(spec, `shard count must be at most ${MNIST_TRAIN_END}`)
  if (shard >= of) fail(spec, `shard ${shard} does not exist: shards are numbered 0..${of - 1}`)
  return { kind: 'mnist-shard', shard, of, ...parseOptions(spec, options) }
}

/** Parse a comma-separated list of specs; each entry is one virtual client. */
export function parseDataSpecs (data: string): DataSpec[] {
  const specs = data.split(',').map(parseDataSpec)
  if (specs.length > MAX_VIRTUAL_CLIENTS) throw new InvalidConfigError(`data: at most ${MAX_VIRTUAL_CLIENTS} specs per node, got ${specs.length}`)
  return specs
}

/** Load the data sets of parsed specs, in order. Partitions are computed once per (count, scheme, seed). */
export async function loadDataSpecs (specs: DataSpec[]): Promise<Dataset[]> {
  let mnist: Dataset | undefined
  const partitions = new Map<string, number[][]>()
  const out: Dataset[] = []
  for (const spec of specs) {
    if (spec.kind === 'dir') {
      out.push(await loadDatasetDir(spec.path))
      continue
    }
    mnist ??= loadMnist()
    if (spec.kind === 'mnist-test') {
      out.push(sliceDataset(mnist, MNIST_TRAIN_END, mnist.count))
      continue
    }
    const key = `${spec.of}/${spec.scheme}/${spec.seed}`
    let parts = partitions.get(key)
    if (parts === undefined) {
      parts = partitionIndices(mnist.y.subarray(0, MNIST_TRAIN_END), spec.of, spec.scheme, deriveSeed(spec.seed, 1))
      partitions.set(key, parts)
    }
    out.push(subsetDataset(mnist, parts[spec.shard]))
  }
  return out
}

/** Parse and load a `--data` value. */
export async function loadData (data: string): Promise<Dataset[]> {
  return loadDataSpecs(parseDataSpecs(data))
}

/** The `--data` value giving a node shards `first, first + step, ...` of `of` (the experiment's spread of K clients over N nodes). */
export function shardSpecs (first: number, step: number, of: number, scheme: string, seed: number): string {
  const opt = scheme.startsWith('dirichlet:') ? `dirichlet=${scheme.slice('dirichlet:'.length)}` : scheme
  const specs: string[] = []
  for (let s = first; s < of; s += step) specs.push(`mnist:${s}/${of}:${opt}:seed=${seed}`)
  return specs.join(',')
}
