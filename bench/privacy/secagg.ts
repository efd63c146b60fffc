/**
 * Secure aggregation against plain FedAvg at 10 clients on the example 2NN
 * (784-200-200-10): the same seeded rounds on IID MNIST, every client every
 * round, timed as `runFederated` times a round (training, aggregation,
 * evaluation); bytes are the global model sent down plus, for plain FedAvg,
 * the weight records sent up, and for secure aggregation every protocol
 * message (keys, encrypted shares, masked vectors, unmasking shares).
 */
import { weightedAverage } from '../../src/federated/strategies/aggregate.js'
import { runMnistExperiment } from '../../src/experiments/mnist.js'
import { createRng } from '../../src/federated/rng.js'
import { runSecAggRound, secAggConfig, seededClientRandom } from '../../src/federated/privacy/secagg/round.js'
import type { ModelRuntime } from '../../src/model/types.js'

export interface SecAggSample { plainRoundMs: number, secureRoundMs: number, plainBytes: number, secureBytes: number }

export interface SecAggResult {
  clients: number
  rounds: number
  samples: SecAggSample[]
  /** Medians over the samples. */
  timeRatio: number
  bytesRatio: number
  plainRoundMs: number
  secureRoundMs: number
  /** Compute of the aggregation step alone, median of the repeats: every client's and the server's protocol work vs the FedAvg weighted average. */
  aggregationMs: { plain: number, secure: number }
}

/** The 2NN's parameter count (784*200 + 200 + 200*200 + 200 + 200*10 + 10). */
const MLP_PARAMETERS = 199_210

/** Time the aggregation step alone on random 2NN-sized updates of 10 clients. */
function aggregationTimes (seed: number): { plain: number, secure: number } {
  const rng = createRng(seed)
  const inputs = Array.from({ length: 10 }, (_, i) => ({ id: i + 1, x: Float32Array.from({ length: MLP_PARAMETERS }, () => 0.01 * rng.normal()), weight: 80 }))
  let t = performance.now()
  weightedAverage(inputs.map((i) => i.x), inputs.map((i) => i.weight))
  const plain = performance.now() - t
  t = performance.now()
  runSecAggRound(secAggConfig(inputs.map((i) => i.id), MLP_PARAMETERS), inputs, { random: seededClientRandom(seed) })
  return { plain, secure: performance.now() - t }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

export async function measureSecAgg (runtime: ModelRuntime, repeats: number, rounds: number, progress: (line: string) => void): Promise<SecAggResult> {
  const base = { runtime, clients: 10, fraction: 1, epochs: 1, batchSize: 10, rounds, partition: 'iid', minParticipants: 10 } as const
  const samples: SecAggSample[] = []
  const aggregations: Array<{ plain: number, secure: number }> = []
  for (let i = 0; i < repeats; i++) {
    const plain = await runMnistExperiment({ ...base, seed: i })
    let protocolBytes = 0
    const secure = await runMnistExperiment({ ...base, seed: i, secureAggregation: { onRound: (s) => { protocolBytes += s.bytesUp + s.bytesDown } } })
    const sample = {
      plainRoundMs: plain.records.reduce((n, r) => n + r.wallMs, 0) / rounds,
      secureRoundMs: secure.records.reduce((n, r) => n + r.wallMs, 0) / rounds,
      plainBytes: plain.records.reduce((n, r) => n + r.bytesUp + r.bytesDown, 0),
      secureBytes: secure.records.reduce((n, r) => n + r.bytesDown, 0) + protocolBytes
    }
    const aggregation = aggregationTimes(i)
    progress(`secagg aggregation step: ${aggregation.plain.toFixed(0)} ms FedAvg vs ${aggregation.secure.toFixed(0)} ms secure (all 10 clients' and the server's protocol work)`)
    aggregations.push(aggregation)
    progress(`secagg sample ${i + 1}/${repeats}: round ${sample.plainRoundMs.toFixed(0)} ms plain vs ${sample.secureRoundMs.toFixed(0)} ms secure; bytes ${sample.plainBytes} vs ${sample.secureBytes}; accuracy ${plain.finalAccuracy} vs ${secure.finalAccuracy}`)
    samples.push(sample)
  }
  return {
    clients: 10,
    rounds,
    samples,
    timeRatio: median(samples.map((s) => s.secureRoundMs / s.plainRoundMs)),
    bytesRatio: median(samples.map((s) => s.secureBytes / s.plainBytes)),
    plainRoundMs: median(samples.map((s) => s.plainRoundMs)),
    secureRoundMs: median(samples.map((s) => s.secureRoundMs)),
    aggregationMs: { plain: median(aggregations.map((a) => a.plain)), secure: median(aggregations.map((a) => a.secure)) }
  }
}
