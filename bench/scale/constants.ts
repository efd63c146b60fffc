/**
 * Settings of the scale benchmark, in one place. Every number here is part of
 * the reported experiment; change it here, not inside a phase.
 */

/**
 * Phase 1, the gossip and scheduling simulation (`simulation.ts`): mesh sizes,
 * repetitions per size (the median is reported), simulated seconds, and the
 * skewed-load scenario.
 */
export const SIMULATION = {
  sizes: [30, 100, 300],
  repetitions: 3,
  /**
   * Simulated time per run, ms (the first `warmupMs` are not counted). Not
   * shorter: a 100-node mesh heartbeats every 25 s (300: 75 s), and the message
   * rate depends on the window; at 10 s (5 s counted) the same seeds gave
   * 2.4-4.2 msg/node/s at 100 nodes against 8.4-9.3 at 15 s.
   */
  durationMs: 15_000,
  warmupMs: 5000,
  /** Fraction of nodes that send requests; every node serves. */
  requesterFraction: 0.2,
  /** Offered load as a fraction of the mesh's capacity. */
  loadFraction: 0.7,
  /** Fraction of nodes that are slow, and how much slower (the skew). */
  slowFraction: 0.25,
  slowdown: 4,
  /**
   * Service time of a normal node, ms, and its execution slots. The scheduler's
   * latency prior (50 ms) is what it assumes of a peer it has not measured yet;
   * a service time far above it makes every unmeasured peer look idle and fast.
   */
  serviceMs: 50,
  capacity: 1,
  /** One-way network delay between two nodes, ms, and gossipsub's extra delay per hop, ms. */
  networkMs: 1,
  /** Base report interval of the simulated nodes (the `lan` preset), ms. */
  reportIntervalMs: 1000,
  seed: 12,
  /**
   * Worker threads the runs (and phase 4's) are spread over. The simulation is
   * deterministic (simulated time, seeded), so this changes the phase's wall
   * time, never its figures; nothing timed runs beside it (the idle phase runs
   * after it, alone).
   */
  workers: 2,
  /**
   * Young generation of each worker thread, MiB (figures unchanged; about
   * 10 % less wall time than V8's default on this machine, 300 nodes).
   */
  youngGenerationMb: 64
} as const

/**
 * Phase 2, idle CPU: a seed and `small` edges, and a seed and `large` edges,
 * alive at the same time (so the machine's other work affects both alike),
 * idle; each edge's CPU time is read from /proc over `windows` windows of
 * `windowMs` after a `settleMs` settling time, and the median window is reported.
 */
export const IDLE = {
  small: 3,
  large: 10,
  preset: 'local-test',
  settleMs: 8000,
  windowMs: 10_000,
  windows: 3,
  readyTimeoutMs: 90_000
} as const

/**
 * Phase 3, coordinator memory of FedAvg in simulate mode: one round with
 * `small` and then `large` participants (every client trains), each in its own
 * process, peak RSS from the kernel's VmHWM.
 */
export const AGGREGATION_MEMORY = {
  small: 10,
  large: 500,
  rounds: 1,
  /**
   * Runs per participant count (alternating); the median is reported. One by
   * default: the kernel's peak RSS of this deterministic run moved by under
   * 1 % between runs, and each run trains on all 8,000 digits (about 25 s).
   */
  repetitions: 1,
  epochs: 1,
  batchSize: 10,
  timeoutMs: 240_000
} as const

/** Goals of the benchmark (issue #12). */
export const TARGETS = {
  /** Messages received per node per second must stay below this at every size. */
  messagesPerNodePerSecond: 10,
  /** Scheduler p99 with gossiped (partial, stale) load over p99 with full knowledge. */
  p99VsFullKnowledge: 1.2,
  /** Idle CPU per edge at `IDLE.large` edges over that at `IDLE.small`. */
  idleCpuRatio: 1.5,
  /** Peak coordinator RSS at `large` participants over that at `small`. */
  aggregationRssRatio: 1.2
} as const

/**
 * Phase 4, the scheduling benchmark's scenario in the simulation (machine
 * independent): four serving nodes with a fixed service time, one `slowdown`
 * times slower, one dedicated requester at `loadFraction` of the capacity
 * (Poisson), every policy on the same arrivals, `local-test` gossip cadence.
 * Queues are unbounded (the real nodes answer busy beyond 32).
 */
export const SKEW = {
  nodes: 5,
  dedicatedRequesters: 1,
  slowFraction: 0.2,
  slowdown: 4,
  serviceMs: 100,
  capacity: 1,
  loadFraction: 0.7,
  networkMs: 1,
  durationMs: 130_000,
  warmupMs: 10_000,
  seeds: [1, 2, 3],
  requesterFraction: 0
} as const
