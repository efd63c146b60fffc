/**
 * Settings of the federated averaging benchmark, in one place. Every number
 * here is part of the reported experiment; change it here, not inside a phase.
 */

/**
 * The synthetic model of phases 1 and 2: three float32 layers of exactly
 * 1,000,000 parameters (4,000,000 bytes of weights).
 */
export const MODEL_LAYERS: ReadonlyArray<{ name: string, shape: number[] }> = [
  { name: 'dense_1/kernel', shape: [800, 1000] },
  { name: 'dense_1/bias', shape: [1000] },
  { name: 'dense_2/kernel', shape: [1000, 199] }
]

/** Phase 1, aggregation: updates per aggregation, warm-up and measured repetitions (kernel and plain loop interleaved). */
export const AGGREGATION = {
  updates: 10,
  warmup: 5,
  repetitions: 30
} as const

/** Protocol id of the raw libp2p stream baseline and the framing diagnostics (bench only). */
export const RAW_PROTOCOL = '/edge-mesh-bench/raw/1.0.0'

/** What a `RAW_PROTOCOL` request asks for (its one byte is the index here); see `transfer-peer.ts`. */
export const RAW_MODES = ['raw', 'framed', 'framedSingleSend'] as const
export type RawMode = typeof RAW_MODES[number]

/**
 * Phase 2, transfer: warm-up and measured repetitions of each kind (a PULL of
 * the weights and a raw stream of the same bytes, interleaved, order
 * alternating), and the chunk size of the raw stream (the fedavg protocol's
 * weight data frame payload, so both send the same pieces).
 */
export const TRANSFER = {
  warmup: 5,
  repetitions: 60,
  rawChunkBytes: 64 * 1024,
  timeoutMs: 60_000
} as const

/**
 * Phase 3, round overhead: participant processes (one MNIST shard each,
 * `--data mnist:<k>/<participants>`) and a seed coordinator, all on this
 * machine; the run they execute (every client every round).
 */
export const ROUNDS = {
  participants: 4,
  spec: {
    rounds: 4,
    epochs: 1,
    batchSize: 10,
    learningRate: 0.05,
    fraction: 1,
    minParticipants: 4,
    waitForClients: 4,
    roundDeadlineMs: 120_000,
    strategy: 'fedavg',
    seed: 1
  },
  /** Longest the whole run may take, ms. */
  runTimeoutMs: 360_000,
  pollMs: 250
} as const

/** Phase 4, memory: the simulated experiment and how often its RSS is sampled. */
export const MEMORY = {
  clients: 100,
  fraction: 0.1,
  rounds: 5,
  epochs: 1,
  batchSize: 10,
  partition: 'iid',
  sampleMs: 50,
  timeoutMs: 300_000
} as const

/** Goals of the benchmark. */
export const TARGETS = {
  aggregationRatio: 0.8,
  transferRatio: 0.8,
  roundOverheadFraction: 0.1,
  peakRssMb: 2048
} as const
