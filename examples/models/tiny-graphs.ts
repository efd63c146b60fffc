/**
 * Two tiny TF.js **graph models**, written by hand as the GraphDef JSON that
 * `tensorflowjs_converter` emits (no Python converter needed), for the unit and
 * integration tests of graph-model support:
 *
 * - `tiny-graph`: `x` float32 `[-1, 8]` (free batch) →
 *   MatMul → BiasAdd → Relu → MatMul → BiasAdd → Softmax → `[-1, 4]`.
 *   Runs with `execute`.
 * - `tiny-graph-int`: `x` int32 `[1, 8]` (batch fixed at 1) → Cast → the same
 *   hidden layer, then control flow: `Switch` on "sum of x > 0" sends the hidden
 *   activations through unchanged (true) or negated (false), `Merge` joins the
 *   branches, then MatMul → BiasAdd → Softmax → `[1, 4]`. Control flow makes
 *   TF.js require `executeAsync`.
 *
 * Weights are drawn from mulberry32(seed) in [-1, 1), the same for both models.
 * `referenceForward` computes the same function in plain JavaScript (float64)
 * so tests check TF.js's result independently.
 *
 * Write the committed copies (about 2 KB each) from the repository root:
 *
 * ```sh
 * npx tsc -p . && npx node dist/examples/models/tiny-graphs.js
 * ```
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { mulberry32 } from '../../src/model/random.js'

/** Input width, hidden width and classes of both tiny graphs. */
export const TINY = { inputs: 8, hidden: 16, classes: 4, seed: 7 } as const

type Attr = Record<string, unknown>
interface GraphNode { name: string, op: string, input?: string[], attr?: Attr }
interface Weight { name: string, shape: number[], dtype: 'float32' | 'int32', values: number[] }

/** A model folder's contents: the `model.json` object and `weights.bin` bytes. */
export interface GraphFiles { modelJson: Record<string, unknown>, weights: Uint8Array }

const FLOAT = { type: 'DT_FLOAT' }
const dims = (shape: number[]): Attr => ({ dim: shape.map((size) => ({ size: String(size) })) })

function placeholder (name: string, dtype: 'DT_FLOAT' | 'DT_INT32', shape: number[]): GraphNode {
  return { name, op: 'Placeholder', attr: { dtype: { type: dtype }, shape: { shape: dims(shape) } } }
}

/** A Const node whose value comes from the weights manifest (TF.js matches them by name). */
function constant (w: Weight): GraphNode {
  const dtype = w.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT'
  return { name: w.name, op: 'Const', attr: { value: { tensor: { dtype, tensorShape: dims(w.shape) } }, dtype: { type: dtype } } }
}

function op (name: string, type: string, input: string[], attr: Attr = { T: FLOAT }): GraphNode {
  return { name, op: type, input, attr }
}

/** The weights shared by both graphs: w1 [8,16], b1 [16], w2 [16,4], b2 [4]. */
export function tinyWeights (): Weight[] {
  const random = mulberry32(TINY.seed)
  const values = (n: number): number[] => Array.from({ length: n }, () => Math.fround(random() * 2 - 1))
  return [
    { name: 'w1', shape: [TINY.inputs, TINY.hidden], dtype: 'float32', values: values(TINY.inputs * TINY.hidden) },
    { name: 'b1', shape: [TINY.hidden], dtype: 'float32', values: values(TINY.hidden) },
    { name: 'w2', shape: [TINY.hidden, TINY.classes], dtype: 'float32', values: values(TINY.hidden * TINY.classes) },
    { name: 'b2', shape: [TINY.classes], dtype: 'float32', values: values(TINY.classes) }
  ]
}

const matMul = (name: string, a: string, b: string): GraphNode =>
  op(name, 'MatMul', [a, b], { T: FLOAT, transpose_a: { b: false }, transpose_b: { b: false } })

/** `tiny-graph`: the float32, free-batch, synchronous graph. */
export function tinyGraph (): GraphFiles {
  const weights = tinyWeights()
  const nodes = [
    placeholder('x', 'DT_FLOAT', [-1, TINY.inputs]),
    ...weights.map(constant),
    matMul('dense_1/MatMul', 'x', 'w1'),
    op('dense_1/BiasAdd', 'BiasAdd', ['dense_1/MatMul', 'b1']),
    op('dense_1/Relu', 'Relu', ['dense_1/BiasAdd']),
    matMul('dense_2/MatMul', 'dense_1/Relu', 'w2'),
    op('dense_2/BiasAdd', 'BiasAdd', ['dense_2/MatMul', 'b2']),
    op('probs', 'Softmax', ['dense_2/BiasAdd'])
  ]
  return files(nodes, weights)
}

/** `tiny-graph-int`: int32 input with a fixed batch of 1 and a Switch/Merge branch (needs `executeAsync`). */
export function tinyGraphInt (): GraphFiles {
  const weights: Weight[] = [
    ...tinyWeights(),
    { name: 'sum_axes', shape: [2], dtype: 'int32', values: [0, 1] },
    { name: 'zero', shape: [], dtype: 'float32', values: [0] }
  ]
  const nodes = [
    placeholder('x', 'DT_INT32', [1, TINY.inputs]),
    ...weights.map(constant),
    op('x_float', 'Cast', ['x'], { SrcT: { type: 'DT_INT32' }, DstT: FLOAT, Truncate: { b: false } }),
    matMul('dense_1/MatMul', 'x_float', 'w1'),
    op('dense_1/BiasAdd', 'BiasAdd', ['dense_1/MatMul', 'b1']),
    op('dense_1/Relu', 'Relu', ['dense_1/BiasAdd']),
    op('total', 'Sum', ['x_float', 'sum_axes'], { T: FLOAT, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } }),
    op('positive', 'Greater', ['total', 'zero']),
    op('branch', 'Switch', ['dense_1/Relu', 'positive']),
    op('when_false', 'Neg', ['branch']),
    op('when_true', 'Identity', ['branch:1']),
    op('joined', 'Merge', ['when_false', 'when_true'], { T: FLOAT, N: { i: '2' } }),
    matMul('dense_2/MatMul', 'joined', 'w2'),
    op('dense_2/BiasAdd', 'BiasAdd', ['dense_2/MatMul', 'b2']),
    op('probs', 'Softmax', ['dense_2/BiasAdd'])
  ]
  return files(nodes, weights)
}

function files (nodes: GraphNode[], weights: Weight[]): GraphFiles {
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'examples/models/tiny-graphs.ts',
    convertedBy: 'hand-written GraphDef JSON',
    modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
    weightsManifest: [{ paths: ['weights.bin'], weights: weights.map(({ name, shape, dtype }) => ({ name, shape, dtype })) }]
  }
  const bytes = new Uint8Array(weights.reduce((n, w) => n + 4 * w.values.length, 0))
  const view = new DataView(bytes.buffer)
  let offset = 0
  for (const w of weights) {
    for (const v of w.values) {
      if (w.dtype === 'int32') view.setInt32(offset, v, true)
      else view.setFloat32(offset, v, true)
      offset += 4
    }
  }
  return { modelJson, weights: bytes }
}

/**
 * The tiny graphs' function in plain JavaScript, one row of `x` at a time:
 * softmax(w2 · (s · relu(w1 · x + b1)) + b2), with s = 1, or, for
 * `tiny-graph-int`, s = -1 when the row's sum is not positive.
 */
export function referenceForward (x: ArrayLike<number>, rows: number, withBranch: boolean): Float64Array {
  const [w1, b1, w2, b2] = tinyWeights().map((w) => w.values)
  const out = new Float64Array(rows * TINY.classes)
  for (let r = 0; r < rows; r++) {
    const row = Array.from({ length: TINY.inputs }, (_, i) => x[r * TINY.inputs + i])
    const sign = withBranch && !(row.reduce((a, b) => a + b, 0) > 0) ? -1 : 1
    const hidden = Array.from({ length: TINY.hidden }, (_, j) =>
      sign * Math.max(0, row.reduce((acc, v, i) => acc + v * w1[i * TINY.hidden + j], b1[j])))
    const logits = Array.from({ length: TINY.classes }, (_, k) =>
      hidden.reduce((acc, h, j) => acc + h * w2[j * TINY.classes + k], b2[k]))
    const top = Math.max(...logits)
    const exps = logits.map((l) => Math.exp(l - top))
    const total = exps.reduce((a, b) => a + b, 0)
    exps.forEach((e, k) => { out[r * TINY.classes + k] = e / total })
  }
  return out
}

/** Write both models under `root` (default `examples/models`). */
export function writeTinyGraphs (root: string): void {
  for (const [name, make] of [['tiny-graph', tinyGraph], ['tiny-graph-int', tinyGraphInt]] as const) {
    const { modelJson, weights } = make()
    const dir = path.join(root, name)
    mkdirSync(dir, { recursive: true })
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson, null, 1) + '\n')
    writeFileSync(path.join(dir, 'weights.bin'), weights)
    console.log(`wrote ${dir} (${weights.byteLength} weight bytes)`)
  }
}

if (process.argv[1] != null && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeTinyGraphs(process.argv[2] ?? fileURLToPath(new URL('../../../examples/models/', import.meta.url)))
}
