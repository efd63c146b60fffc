/**
 * FedAvg (McMahan et al. 2017): each sampled client runs E local epochs of
 * minibatch SGD with batch size B, and the server averages the returned
 * weights weighted by each client's number of examples. With
 * `proximalMu > 0` the clients train with the FedProx proximal term.
 */
import { weightedAverage } from './aggregate.js'
import { combineLayers, configureSampled, resolveTrainOptions } from '../strategy.js'
import { weightedSumFolder } from '../streaming.js'
import type { LocalTrainOptions } from '../strategy.js'
import type { StreamingStrategy } from '../streaming.js'

export type FedAvgOptions = LocalTrainOptions

/** Create the FedAvg strategy; it aggregates as updates arrive (`fold`, see streaming.ts). */
export function fedAvg (options: FedAvgOptions = {}, name = 'fedavg'): StreamingStrategy {
  const train = resolveTrainOptions(options)
  return {
    name,
    configureRound: (ctx) => configureSampled(ctx, train),
    aggregate (ctx, results) {
      const counts = results.map((r) => r.numExamples)
      return combineLayers(ctx.global, results.map((r) => r.weights), (layers) => weightedAverage(layers, counts))
    },
    fold: (ctx) => weightedSumFolder(ctx.global)
  }
}
