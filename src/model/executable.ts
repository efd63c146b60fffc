/**
 * A loaded model behind one shape, whatever its TF.js format: its input
 * signature, output shapes, and a `run` that maps input tensors to output
 * tensors.
 *
 * - layers models run with `predictOnBatch`;
 * - graph models run with `execute`, or with `executeAsync` when the graph
 *   holds control-flow or dynamic-shape ops (TF.js refuses to `execute` those:
 *   `Switch`, `Merge`, `Enter`, `Exit`, `NextIteration`, `StatelessIf`,
 *   `StatelessWhile`, `If`, `While`, `NonMaxSuppressionV2/3/4/5`, `Where`).
 *   The op scan decides up front; a graph that `execute` still refuses (an op
 *   TF.js adds to its list later) switches to `executeAsync` once and stays there.
 */
import * as tf from '@tensorflow/tfjs'
import { InvalidModelError } from '../errors.js'
import { ASYNC_GRAPH_OPS } from './constants.js'
import { memoryLoader } from './io.js'
import type { CanonicalModel } from './canonical.js'
import type { DType, ModelFormat, TensorSignature } from './types.js'

/** A model ready to run. The caller owns (and disposes) the tensors it passes and receives. */
export interface Executable {
  readonly format: ModelFormat
  readonly inputs: TensorSignature[]
  /** Output shapes, `-1` for a free dimension; `[]` when the model does not declare one. */
  readonly outputShapes: number[][]
  /** Graph models only: how the graph runs. */
  readonly execution?: 'sync' | 'async'
  /** The layers model, for training and evaluation (absent for graph models). */
  readonly layers?: tf.LayersModel
  run(inputs: tf.Tensor[]): Promise<tf.Tensor[]>
  dispose(): void
}

/** Build the executable of canonical artifacts; TF.js failures become InvalidModelErrors. */
export async function loadExecutable (canonical: CanonicalModel): Promise<Executable> {
  const { topology, specs, artifacts, format, signature } = canonical
  const handler = memoryLoader(topology, specs, artifacts.weights, format, signature)
  try {
    if (format === 'graph-model') return graphExecutable(await tf.loadGraphModel(handler), topology)
    return layersExecutable(await tf.loadLayersModel(handler))
  } catch (err: any) {
    if (err instanceof InvalidModelError) throw err
    throw new InvalidModelError(`TF.js cannot build the model: ${String(err?.message ?? err)}`)
  }
}

function layersExecutable (model: tf.LayersModel): Executable {
  const shapeOf = (t: tf.SymbolicTensor): number[] => t.shape.map((d) => d ?? -1)
  return {
    format: 'layers-model',
    inputs: model.inputs.map((t) => ({ name: t.name, dtype: toDType(t.dtype, t.name), shape: shapeOf(t) })),
    outputShapes: model.outputs.map(shapeOf),
    layers: model,
    run: async (xs) => tf.tidy(() => {
      const out = model.predictOnBatch(xs.length === 1 ? xs[0] : xs)
      return Array.isArray(out) ? out : [out]
    }),
    dispose: () => { model.dispose() }
  }
}

function graphExecutable (model: tf.GraphModel, topology: Record<string, unknown>): Executable {
  const inputs = model.inputs.map((t) => {
    if (t.shape == null) throw new InvalidModelError(`graph input "${t.name}" declares no shape`)
    return { name: t.name, dtype: toDType(t.dtype, t.name), shape: [...t.shape] }
  })
  let execution: 'sync' | 'async' = usesAsyncOps(topology) ? 'async' : 'sync'
  const feed = (xs: tf.Tensor[]): tf.NamedTensorMap => Object.fromEntries(inputs.map((input, i) => [input.name, xs[i]]))
  const list = (out: tf.Tensor | tf.Tensor[]): tf.Tensor[] => Array.isArray(out) ? out : [out]
  return {
    format: 'graph-model',
    inputs,
    outputShapes: model.outputs.map((t) => t.shape ?? []),
    get execution () { return execution },
    run: async (xs) => {
      if (execution === 'async') return list(await model.executeAsync(feed(xs)))
      try {
        return list(model.execute(feed(xs)))
      } catch (err: any) {
        if (!String(err?.message).includes('executeAsync')) throw err
        execution = 'async'
        return list(await model.executeAsync(feed(xs)))
      }
    },
    dispose: () => { model.dispose() }
  }
}

/** True when a GraphDef (or one of its library functions) holds an op that only `executeAsync` runs. */
export function usesAsyncOps (topology: Record<string, unknown>): boolean {
  const ops = (nodes: unknown): boolean => Array.isArray(nodes) && nodes.some((n) => ASYNC_GRAPH_OPS.has(String(n?.op)))
  const functions = (topology.library as { function?: Array<{ nodeDef?: unknown }> } | undefined)?.function ?? []
  return ops(topology.node) || functions.some((f) => ops(f?.nodeDef))
}

/** Model inputs must be float32 or int32, the dtypes edge-mesh moves (see docs/protocols.md). */
function toDType (dtype: string, name: string): DType {
  if (dtype === 'float32' || dtype === 'int32') return dtype
  throw new InvalidModelError(`input "${name}" has dtype ${dtype}; edge-mesh supports float32 and int32 inputs`)
}
