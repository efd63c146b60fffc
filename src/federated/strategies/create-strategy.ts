/**
 * Strategies by name, for configuration files and the CLI.
 */
import { withBucketing } from './bucketing.js'
import { InvalidConfigError } from '../../errors.js'
import { fedAvg } from './fedavg.js'
import { fedMedian } from './fedmedian.js'
import { fedSgd } from './fedsgd.js'
import { flTrust } from './fltrust.js'
import { krum } from './krum.js'
import { trimmedMean } from './trimmed-mean.js'
import type { FlTrustOptions } from './fltrust.js'
import type { KrumOptions } from './krum.js'
import type { Strategy } from '../strategy.js'
import type { TrimmedMeanOptions } from './trimmed-mean.js'

/** The strategy names `createStrategy` knows. */
export const STRATEGY_NAMES = ['fedavg', 'fedsgd', 'fedmedian', 'trimmed-mean', 'krum', 'fltrust'] as const

export type StrategyName = typeof STRATEGY_NAMES[number]

/** Options of every strategy; each strategy reads the ones it knows. */
export type StrategyOptions = TrimmedMeanOptions & KrumOptions & FlTrustOptions & {
  /**
   * Bucket size for the robust strategies (median, trimmed mean, Krum): updates
   * are averaged in random buckets of this size first (Karimireddy et al. 2022),
   * which keeps robust aggregation accurate on non-IID data. @default 1 (off)
   */
  bucketSize?: number
  /** Seed of the bucket shuffles. @default 0 */
  seed?: number
}

/**
 * Create a strategy by name. FedProx is FedAvg (or any other strategy) with
 * `proximalMu > 0`. FedSGD ignores `epochs` and `batchSize` (it uses E=1, B=0).
 *
 * @example
 * ```ts
 * const strategy = createStrategy('fedavg', { epochs: 1, batchSize: 10, learningRate: 0.05 })
 * ```
 */
export function createStrategy (name: StrategyName | string, options: StrategyOptions = {}): Strategy {
  switch (name) {
    case 'fedavg': return fedAvg(options)
    case 'fedsgd': return fedSgd({ learningRate: options.learningRate })
    case 'fedmedian': return withBucketing(fedMedian(options), options.bucketSize ?? 1, options.seed)
    case 'trimmed-mean': return withBucketing(trimmedMean(options), options.bucketSize ?? 1, options.seed)
    case 'krum': return withBucketing(krum(options), options.bucketSize ?? 1, options.seed)
    case 'fltrust': return flTrust(options)
    default: throw new InvalidConfigError(`unknown strategy "${name}", expected one of ${STRATEGY_NAMES.join(', ')}`)
  }
}
