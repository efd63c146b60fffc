/**
 * Trimmed mean (Yin et al. 2018): for each coordinate, drop the
 * `floor(beta * n)` largest and smallest values and average the rest.
 */
import { InvalidConfigError } from '../../errors.js'
import { trimmedMean as trimmedMeanLayer } from './aggregate.js'
import { DEFAULT_TRIM_BETA } from '../constants.js'
import { combineLayers, configureSampled, resolveTrainOptions } from '../strategy.js'
import type { LocalTrainOptions, Strategy } from '../strategy.js'

export interface TrimmedMeanOptions extends LocalTrainOptions {
  /** Fraction cut from each end, in [0, 0.5). @default 0.1 */
  beta?: number
}

/** Create the trimmed-mean strategy. */
export function trimmedMean (options: TrimmedMeanOptions = {}): Strategy {
  const train = resolveTrainOptions(options)
  const beta = options.beta ?? DEFAULT_TRIM_BETA
  if (!(beta >= 0 && beta < 0.5)) throw new InvalidConfigError(`trimmed mean beta must be in [0, 0.5), got ${beta}`)
  return {
    name: 'trimmed-mean',
    configureRound: (ctx) => configureSampled(ctx, train),
    aggregate: (ctx, results) => combineLayers(ctx.global, results.map((r) => r.weights), (layers) => trimmedMeanLayer(layers, beta))
  }
}
