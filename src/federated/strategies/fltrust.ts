/**
 * FLTrust (Cao, Fang, Liu and Gong, "FLTrust: Byzantine-robust federated
 * learning via trust bootstrapping", NDSS 2021). The coordinator holds a
 * small clean root data set (about 100 examples) and, each round, trains the
 * global model on it itself; that server update `g0` is the reference
 * direction. Each client's delta `d_i = w_i - g`:
 *
 * - gets a trust score from `cos(d_i, g0)`: with `trustWeighting: 'cosine'`
 *   (the paper's, the default) `max(0, cos)`; with `'sign'` 1 when `cos > 0`
 *   and 0 otherwise, times the client's example count (FedAvg over the
 *   trusted updates, which keeps more of what strongly non-IID clients bring,
 *   at the price of giving a barely aligned update full weight). Updates
 *   that do not move the model the way clean data does count for nothing,
 *   which defeats reversed (sign-flip) and unrelated (noise) updates even
 *   when non-IID data keeps honest updates far apart from each other (where
 *   distance rules such as Krum or trimming fail);
 * - is clipped to the norm of `g0`, so a boosted update (scale attack)
 *   cannot buy influence by being large. (The paper rescales every update to
 *   `|g0|`, also up; clipping only scales down, which does not amplify the
 *   noise of small honest updates.)
 *
 * The next global model is `g + sum_i TS_i * c_i * d_i / sum_i TS_i` with
 * `c_i = min(1, |g0| / |d_i|)`; when every score is 0 the global model stays
 * as it is. Cosines and norms run over the float layers; integer layers are
 * left unchanged.
 *
 * The root update comes from a function the caller provides (the experiment
 * and the mesh coordinator train on their root data with the model runtime),
 * so this module stays free of TensorFlow.js.
 */
import { InvalidConfigError } from '../../errors.js'
import { configureSampled, resolveTrainOptions } from '../strategy.js'
import type { LayerData } from './aggregate.js'
import type { LocalTrainOptions, RoundContext, Strategy } from '../strategy.js'
import type { WeightRecord } from '../../model/types.js'

/**
 * Train the round's global weights on the root data set and return the
 * result. `clientExamples` is the median example count of the round's
 * clients: the paper's server takes as many local steps as a client does,
 * so a trainer with fewer root examples runs more epochs.
 */
export type RootUpdate = (ctx: RoundContext, train: Required<LocalTrainOptions>, clientExamples: number) => Promise<WeightRecord>

/** How FLTrust turns cosines into weights; see the module TSDoc. */
export type TrustWeighting = 'cosine' | 'sign'

export interface FlTrustOptions extends LocalTrainOptions {
  /** The coordinator's training on its root data set (required for FLTrust). */
  rootUpdate?: RootUpdate
  /** `cosine`: weight `max(0, cos)`; `sign`: weight = example count when `cos > 0`. @default 'cosine' */
  trustWeighting?: TrustWeighting
}

/** Epochs of the root update so it takes about as many steps as the median client: `epochs * max(1, round(clientExamples / rootExamples))`. */
export function rootEpochs (epochs: number, clientExamples: number, rootExamples: number): number {
  return epochs * Math.max(1, Math.round(clientExamples / Math.max(1, rootExamples)))
}

/** Trust scores and rescaling factors of FLTrust (pure). */
export interface FlTrustWeights {
  /** Trust score per update (0 = ignored). */
  scores: number[]
  /** Clipping factor `min(1, |g0| / |d_i|)` per update. */
  scales: number[]
}

/**
 * Score deltas against the root delta (pure). `deltas[i][l]` is update i's
 * delta of layer l, `root[l]` the root delta; `floatLayers[l]` says whether
 * layer l counts.
 */
export function flTrustWeights (deltas: ReadonlyArray<readonly LayerData[]>, root: readonly LayerData[], floatLayers: readonly boolean[],
  weighting: TrustWeighting = 'cosine', examples: readonly number[] = deltas.map(() => 1)): FlTrustWeights {
  let root2 = 0
  for (let l = 0; l < root.length; l++) {
    if (!floatLayers[l]) continue
    for (let j = 0; j < root[l].length; j++) root2 += root[l][j] * root[l][j]
  }
  const rootNorm = Math.sqrt(root2)
  const scores: number[] = []
  const scales: number[] = []
  for (const d of deltas) {
    let dot = 0
    let norm2 = 0
    for (let l = 0; l < root.length; l++) {
      if (!floatLayers[l]) continue
      const x = d[l]
      const r = root[l]
      for (let j = 0; j < x.length; j++) {
        dot += x[j] * r[j]
        norm2 += x[j] * x[j]
      }
    }
    const norm = Math.sqrt(norm2)
    const cos = norm > 0 && rootNorm > 0 ? dot / (norm * rootNorm) : 0
    const aligned = Number.isFinite(cos) && cos > 0
    scores.push(!aligned ? 0 : weighting === 'cosine' ? cos : Math.max(1, examples[scores.length]))
    scales.push(norm > rootNorm ? rootNorm / norm : 1)
  }
  return { scores, scales }
}

function delta (global: WeightRecord, update: WeightRecord): Float32Array[] {
  const byName = new Map(update.map((t) => [t.name, t.data]))
  return global.map((g) => {
    const w = byName.get(g.name)
    if (w === undefined || w.length !== g.data.length) throw new InvalidConfigError(`layer "${g.name}" missing or resized (validate updates first)`)
    const d = new Float32Array(w.length)
    for (let j = 0; j < d.length; j++) d[j] = w[j] - g.data[j]
    return d
  })
}

/** Create the FLTrust strategy; `rootUpdate` is required. */
export function flTrust (options: FlTrustOptions = {}): Strategy {
  const train = resolveTrainOptions(options)
  const rootUpdate = options.rootUpdate
  const weighting = options.trustWeighting ?? 'cosine'
  if (weighting !== 'cosine' && weighting !== 'sign') throw new InvalidConfigError(`FLTrust weighting must be cosine or sign, got "${String(weighting)}"`)
  if (rootUpdate === undefined) {
    throw new InvalidConfigError('fltrust needs a root data set at the coordinator (experiments: --root-examples; mesh runs: rootData)')
  }
  return {
    name: weighting === 'cosine' ? 'fltrust' : 'fltrust-sign',
    configureRound: (ctx) => configureSampled(ctx, train),
    async aggregate (ctx, results) {
      const counts = results.map((r) => r.numExamples).sort((a, b) => a - b)
      const root = delta(ctx.global, await rootUpdate(ctx, train, counts[Math.floor((counts.length - 1) / 2)]))
      const deltas = results.map((r) => delta(ctx.global, r.weights))
      const floatLayers = ctx.global.map((g) => g.dtype === 'float32')
      const { scores, scales } = flTrustWeights(deltas, root, floatLayers, weighting, results.map((r) => r.numExamples))
      const total = scores.reduce((a, b) => a + b, 0)
      const ignored = results.flatMap((r, i) => scores[i] === 0 ? [r.clientId] : [])
      if (ignored.length > 0) ctx.log?.('round %d: zero trust for %s', ctx.round, ignored.join(', '))
      return ctx.global.map((g, l) => {
        if (!floatLayers[l] || total === 0) return { ...g, shape: [...g.shape], data: g.data.slice() }
        const acc = new Float64Array(g.data.length)
        deltas.forEach((d, i) => {
          const w = scores[i] * scales[i] / total
          if (w === 0) return
          for (let j = 0; j < acc.length; j++) acc[j] += w * d[l][j]
        })
        const out = new Float32Array(acc.length)
        for (let j = 0; j < out.length; j++) out[j] = g.data[j] + acc[j]
        return { name: g.name, shape: [...g.shape], dtype: g.dtype, data: out }
      })
    }
  }
}
