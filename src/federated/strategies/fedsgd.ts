/**
 * FedSGD, the baseline of McMahan et al. 2017: every sampled client takes one
 * full-batch gradient step (E = 1, B = 0, i.e. the whole local data set) and
 * the server averages the results weighted by example counts, which equals
 * one SGD step on the weighted average of the clients' gradients.
 */
import { fedAvg } from './fedavg.js'
import type { StreamingStrategy } from '../streaming.js'

export interface FedSgdOptions {
  /** Learning rate of the single step. @default 0.05 */
  learningRate?: number
}

/** Create the FedSGD strategy (FedAvg with E = 1 and B = 0). */
export function fedSgd (options: FedSgdOptions = {}): StreamingStrategy {
  return fedAvg({ epochs: 1, batchSize: 0, learningRate: options.learningRate, proximalMu: 0 }, 'fedsgd')
}
