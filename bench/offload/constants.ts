/**
 * Settings of the offload benchmark, in one place. Every number here is part
 * of the reported experiment; change it here, not inside a phase.
 */

/** The example model and its content id (see examples/models/mnist-mlp). */
export const MODEL_DIR = 'examples/models/mnist-mlp'
export const MODEL_ID = 'sha256-eeea90ef1d54a41204f3959bebb0d1b36beda1fbdbe43ae4e0f8b6ccfae38e4a'
/** A [1, 784] float32 MNIST digit: batch 1. */
export const INPUT_FILE = 'examples/inputs/mnist-digit-7.json'

/** Protocol id of the raw libp2p echo baseline (bench only). */
export const ECHO_PROTOCOL = '/edge-mesh-bench/echo/1.0.0'

/**
 * Protocol id of the size-matched echo on an open stream (bench only): the
 * floor a long-lived request stream can reach (request size out, reply size back).
 */
export const SIZED_ECHO_PROTOCOL = '/edge-mesh-bench/sized-echo/1.0.0'

/** Deadline of every benchmark request, ms: generous, so slowness shows as latency rather than failure. */
export const DEADLINE_MS = 5000

/** Latency phase: warm-up requests per kind, then measured rounds (one local, one remote, one open-stream echo per round, interleaved). */
export const LATENCY_WARMUP = 300
export const LATENCY_ROUNDS = 2000
/** New-stream echoes of the latency phase, in their own block after the rounds (see latency.ts). */
export const LATENCY_ECHO_NEW_STREAM = 1000

/**
 * Scheduling phase. Peers run with micro-batching off, so each is a plain
 * queue with `capacity` slots; with batching on, a backlogged peer merges its
 * queue into one predict and the phase would measure the batcher rather than
 * where requests are sent.
 *
 * Every peer emulates an edge device with a FIXED service time per request
 * (`--simulate-service-ms`: the slot stays busy that long whatever the model
 * took, about 0.4 ms here), and the slow peer's is `slowdown` times longer.
 * A fixed time, not a multiple of the measured compute, so the machine's
 * noise (other processes on two shared cores) does not become the slow
 * peer's service time and the p99. The cluster's capacity is then known
 * exactly: the sum over peers of capacity x 1000 / serviceMs.
 */
export const SCHEDULING = {
  /** Serving peers; the last one is slowed down. */
  peers: 4,
  /** Execution slots per peer. */
  capacity: 1,
  /** Queue per peer before it answers busy (the node default). */
  maxQueue: 32,
  /** Service time of every peer but the slow one, ms (long enough that the machine's noise, a few ms, stays small beside it). */
  serviceMs: 100,
  /** The slow peer's service time is this multiple of `serviceMs`. */
  slowdown: 4,
  /** Offered load as a fraction of the cluster's nominal capacity. */
  loadFraction: 0.7,
  /** Open loop: rounds of one segment per policy (order rotated each round), segment length, ms. */
  rounds: 3,
  segmentMs: 12_000,
  /** Warm-up of each policy's requester at the same rate before the rounds, ms (not measured). */
  warmupMs: 2000,
  /** Seed of the Poisson arrivals: in each round every policy sees the same arrival times. */
  seed: 20250101
} as const

/** Throughput phase: one saturated peer, closed loop. */
export const THROUGHPUT = {
  capacity: 2,
  maxQueue: 128,
  /** In flight from the one driver peer: the node's per-connection limit of inbound infer streams (32); more would be refused, not served. */
  concurrency: 32,
  warmupRequests: 1000,
  requests: 6000
} as const

/**
 * Pipeline phase (issue #12): the throughput of one serving node fed batch-1
 * requests over `/edge-mesh/infer/1.1.0` (and over 1.0.0 for comparison)
 * against direct `predict` of the same model in the driver process, in
 * `rounds` rounds of alternating blocks; the goal is judged on the median of
 * the rounds' ratios. The serving node has the node defaults (4 slots,
 * micro-batching on), so batching pays when it saturates.
 */
export const PIPELINE = {
  rounds: 3,
  /** Requests per block over 1.1.0. */
  requests: 4000,
  /** Requests per block over 1.0.0 (slower: fewer, so the phase stays short). */
  perStreamRequests: 2000,
  /** Direct predict calls per block (one at a time, in the driver process). */
  directRequests: 4000,
  /** Requests in flight from the driver over 1.1.0 (its per-stream limit). */
  concurrency: 64,
  /** Requests in flight over 1.0.0: its limit of streams per connection (more are refused busy, or not opened). */
  perStreamConcurrency: 32,
  warmupRequests: 1000,
  /** Serving node settings. */
  capacity: 4,
  maxQueue: 256
} as const

/** Latency phase: runs the rounds are split into; each run's ratios are reported and the goal uses their median. */
export const LATENCY_RUNS = 3

/**
 * Memory phase: one serving peer, RSS after a warm-up and after `requests`
 * more. Earlier runs with a 3,000-request warm-up showed RSS stepping up
 * until about 30,000 requests and flat after, with a steady tensor count: the
 * warm-up covers that settling. Over `/edge-mesh/infer/1.1.0` (larger
 * micro-batches, more in flight) the steps went on to about 34,000 requests
 * (30 Nov 2026: 252.8 MiB at 30,000, 277.5 at 34,000, then 278.8, 279, 279,
 * 279 up to 50,000; 6 tensors throughout), hence 40,000.
 */
export const MEMORY = {
  warmupRequests: 40_000,
  requests: 20_000,
  concurrency: 16
} as const

/**
 * Spot-check benchmark (`npm run bench:spotcheck`). Overhead: three drivers
 * that hold the model, with spot-check rates 0, 1 % and 10 %, send the same
 * closed-loop load to one honest serving peer in rotating order, `repeats`
 * times; each block is `requests` requests with `concurrency` in flight.
 * Detection: a driver with the model offloads (prefer remote) only to a lying
 * peer; the driver registers no ban list and dials the liar again after each
 * catch, so each caught lie is one sample of "the liar's answers until caught".
 * A configuration stops after `catches` catches or `maxRequests` answers.
 */
export const SPOT_CHECK = {
  rates: [0, 0.01, 0.1],
  repeats: 3,
  warmupRequests: 200,
  /** Requests per rate and repeat, sent in rotating blocks of `blockRequests`. */
  requests: 1500,
  blockRequests: 100,
  concurrency: 4,
  detection: [
    { rate: 0.01, lieRate: 1 },
    { rate: 0.1, lieRate: 1 },
    { rate: 0.01, lieRate: 0.1 },
    { rate: 0.1, lieRate: 0.1 }
  ],
  catches: 10,
  maxRequests: 6000,
  seed: 7
}
