/**
 * FedMedian (Yin et al. 2018): the next global weights are the
 * coordinate-wise median of the updates; example counts are ignored, so a
 * client cannot buy influence by claiming many examples.
 */
import { coordinateMedian } from './aggregate.js'
import { combineLayers, configureSampled, resolveTrainOptions } from '../strategy.js'
import type { LocalTrainOptions, Strategy } from '../strategy.js'

export type FedMedianOptions = LocalTrainOptions

/** Create the FedMedian strategy. */
export function fedMedian (options: FedMedianOptions = {}): Strategy {
  const train = resolveTrainOptions(options)
  return {
    name: 'fedmedian',
    configureRound: (ctx) => configureSampled(ctx, train),
    aggregate: (ctx, results) => combineLayers(ctx.global, results.map((r) => r.weights), (layers) => coordinateMedian(layers))
  }
}
