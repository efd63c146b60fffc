/**
 * Documented defaults of the privacy capability (differential privacy, update
 * compression, secure aggregation).
 */

/**
 * RDP orders the accountant tracks: 1.1 to 10.9 by 0.1, the integers 12 to 63
 * (Opacus's default grid), and a few large orders for small sampling rates and
 * long runs, where the optimum moves up.
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = [
  ...Array.from({ length: 99 }, (_, i) => Math.round((1.1 + i * 0.1) * 10) / 10),
  ...Array.from({ length: 52 }, (_, i) => 12 + i),
  64, 80, 96, 128, 192, 256, 512
]

/** δ of the reported (ε, δ) when a run does not give one: below 1/K for any K up to 10^5 clients. */
export const DEFAULT_DP_DELTA = 1e-5

/** L2 bound of each client's update (the difference to the global model) in DP-FedAvg. */
export const DEFAULT_DP_CLIP_NORM = 1

/** Noise multiplier z of DP-FedAvg: the noise standard deviation is z times the sensitivity. */
export const DEFAULT_DP_NOISE_MULTIPLIER = 1

/** Secure aggregation: values of an update (a difference to the global model) are clamped to this magnitude. */
export const DEFAULT_SECAGG_BOUND = 1

/** Secure aggregation: largest sum of example counts of a round (2^16); with the bound this leaves 14 fractional bits. */
export const DEFAULT_SECAGG_MAX_TOTAL_WEIGHT = 2 ** 16

/**
 * Top-k (DGC) momentum correction factor m (Lin et al. use 0.9); 0 = plain
 * error feedback. On IID MNIST at C = 0.1 it gains 2.6 points over plain
 * error feedback with warm-up (docs/privacy.md).
 */
export const DEFAULT_TOPK_MOMENTUM = 0.9

/** Top-k (DGC) local clipping of each round's delta, L2; 0 = off (MNIST deltas stay below 0.5: clipping there changed nothing). */
export const DEFAULT_TOPK_CLIP_NORM = 0

/**
 * Top-k (DGC) warm-up: rounds over which the density ramps down exponentially
 * to the run's ratio (10 %, 4.6 %, 2.2 %, then 1 % at ratio 0.01). Their bytes
 * count: 29.5x fewer than float32 over 20 rounds instead of 49.8x.
 */
export const DEFAULT_TOPK_WARMUP_ROUNDS = 3

/** Top-k (DGC) warm-up: density of round 1 (DGC's 25 % cost too many bytes: 16.8x fewer over 20 rounds). */
export const DEFAULT_TOPK_WARMUP_DENSITY = 0.1

/**
 * Top-k: exponent a of the discount `(1 + τ)^−a` a returning client applies
 * to its residual and velocity after missing τ rounds (FedAsync's polynomial
 * staleness function); 0 = keep them whole, as DGC does. See docs/privacy.md.
 */
export const DEFAULT_TOPK_STALENESS = 0

/**
 * Top-k: how the coordinator averages sparse updates, `all` (FedAvg: divide
 * by the round's total weight) or `senders` (divide each coordinate by the
 * weight of the clients that sent it). `senders` is for partial
 * participation (C = 0.1: within 0.15 point of float32 with the stale
 * discount); with every client in every round it overshoots, hence `all`.
 * See docs/privacy.md.
 */
export const DEFAULT_TOPK_AVERAGE = 'all' as const

/** Top-k uplink states (residual and velocity of one virtual client in one run) a participant keeps; the least recently used is dropped. */
export const DEFAULT_MAX_UPLINK_STATES = 64
