/**
 * Settings of the real-model benchmark (`npm run bench:models`), in one place.
 * Every number here is part of the reported experiment.
 */

/**
 * The models, packaged names (see src/model/packaged.ts), each measured the
 * same way: the two, MoveNet Lightning (a graph model with a fixed
 * batch of 1 and int32 pixels) and MobileNetV2 (a layers model that may batch,
 * float32 pixels). `BENCH_MODEL` measures one packaged model instead.
 */
export const MODELS: readonly string[] = process.env.BENCH_MODEL != null ? [process.env.BENCH_MODEL] : ['human:movenet-lightning', 'nsfwjs:mobilenet_v2']

/** The model of the scheduling phase (the slower phase, run once): the first of `MODELS`. */
export const SCHEDULING_MODEL = MODELS[0]

/** Independent repetitions; the report gives each and their median. */
export const RUNS = 3

/** Requests of one burst, all sent at once. */
export const BURST = 200

/** Requests run (and not timed) on each node before measuring, so TF.js has compiled and warmed every kernel. */
export const WARMUP = 5

/**
 * An untimed burst every node runs before its timed ones (A locally, the
 * unbounded-batches node locally, B through A with `prefer: remote`), so that
 * every burst measures a node in its steady state. TF.js is warm after
 * `WARMUP` requests, V8 is not: on a fresh node the first burst of 200
 * MoveNet requests ran 3-9 % slower than the second and spent 330-380 ms of
 * CPU on V8's helper threads (optimising compilers, GC) against 90-120 ms.
 */
export const WARM_BURST = BURST

/**
 * Latency samples of each kind (local, remote), interleaved, after the bursts:
 * enough that the p50s do not swing with the few-ms differences in compute
 * time between the two processes (40 did: 0.08 to 0.14 of the model's time).
 */
export const LATENCY_SAMPLES = 100

/** The `ceiling` phase (see `ceiling.ts`): rounds of one process alone, then two at once, each running `inferences` predictions. */
export const CEILING = { rounds: 3, inferences: 100 } as const

/**
 * Execution slots of every node: one, because TF.js on wasm computes on one
 * core per process, and a second slot would only interleave work on it.
 */
export const CAPACITY = 1

/** Queue bound of every node: a whole burst fits, so the lone node serves all of it. */
export const MAX_QUEUE = 256

/** Deadline of every request, ms: long enough for a whole burst on one node at ~100 ms per inference. */
export const DEADLINE_MS = 120_000

/**
 * The placement the goals are checked in (see `placement.ts`): two nodes on a
 * core each, the "one wasm core each". The other placement is
 * measured in the same run and reported beside it.
 */
export const GOAL_PLACEMENT = 'one-core-each' as const

/** The goals of issue #14, checked for each model ("MoveNet (or MobileNetV2)", the issue says). */
export const GOALS = {
  /** A burst completes this much faster with one idle peer than alone. */
  minSpeedup: 1.7,
  /** remote p50 - local p50 at most this fraction of the model's own p50 inference time. */
  maxRemoteOverheadFraction: 0.1
}

/**
 * The real-model scheduling phase (`scheduling.ts`): two serving processes
 * with the model, each pinned to one of the two cores; the slow one shares its
 * core with a CPU burner (`cpu-starved`), or is emulated `slowdown` times
 * slower (`emulated`). Poisson arrivals at `loadFraction` of the pair's nominal
 * capacity, `rounds` rounds of one `segmentMs` segment per policy.
 */
export const REAL_SCHEDULING = {
  /** Half a core: the slow peer runs about this many times slower. */
  slowdown: 2,
  /** Offered load as a fraction of the pair's measured capacity (see `calibrate`). */
  loadFraction: 0.7,
  /** Closed-loop requests that measure the pair's capacity before the rounds, and how many in flight. */
  calibrationRequests: 120,
  calibrationConcurrency: 6,
  rounds: 3,
  segmentMs: 8000,
  warmupMs: 2000,
  /** Queue per peer (every request of a segment fits, so a policy's overload shows as latency, not refusals). */
  maxQueue: 256,
  deadlineMs: 60_000,
  seed: 20251130
} as const

/** Goals of the scheduling phase, as the offload issue (#12) states them: p2c's p99 against random's and least-outstanding's. */
export const SCHEDULING_GOALS = { maxVsRandom: 0.5, maxVsLeastOutstanding: 1.0 }
