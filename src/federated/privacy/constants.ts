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

/** Top-k (DGC) momentum correction factor m; 0 = plain error feedback (the float32 baseline has no momentum). */
export const DEFAULT_TOPK_MOMENTUM = 0

/** Top-k (DGC) local clipping of each round's delta, L2; 0 = off. */
export const DEFAULT_TOPK_CLIP_NORM = 0

/** Top-k (DGC) warm-up: rounds over which the density ramps down exponentially to the run's ratio. */
export const DEFAULT_TOPK_WARMUP_ROUNDS = 0

/** Top-k (DGC) warm-up: density of round 1. */
export const DEFAULT_TOPK_WARMUP_DENSITY = 0.25

/** Top-k uplink states (residual and velocity of one virtual client in one run) a participant keeps; the least recently used is dropped. */
export const DEFAULT_MAX_UPLINK_STATES = 64
