/**
 * @packageDocumentation
 *
 * Experiments run on edge-mesh, kept out of the framework (as Flower keeps
 * its baselines out of `flwr`): McMahan et al.'s MNIST setup with iid /
 * noniid / Dirichlet partitions and simulated byzantine clients, and the
 * `rounds.csv` and `accuracy.svg` it writes. `edge-mesh experiment` (the CLI)
 * and `examples/robustness` use it.
 *
 * @example Simulate 100 clients on MNIST
 * ```ts
 * import { runMnistExperiment } from './experiments/index.js'
 *
 * const { records, reached } = await runMnistExperiment({
 *   clients: 100, fraction: 0.1, epochs: 1, batchSize: 10, rounds: 20,
 *   partition: 'noniid', strategy: 'fedavg', seed: 1, outDir: 'out/mnist'
 * })
 * ```
 */
export { runMnistExperiment, roundsToTargets } from './mnist.js'
export type { MnistExperimentOptions, MnistExperimentResult } from './mnist.js'
export { roundsToCsv, ROUNDS_CSV_COLUMNS } from './csv.js'
export { lineChartSvg, niceTicks } from './plot.js'
export type { LineChartOptions, Series } from './plot.js'
