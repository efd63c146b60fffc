/**
 * Defaults of the offload scheduler and client (where a request runs, retries,
 * backoff, hedging). The wire defaults (queue, batcher, frames, streams) live in
 * `constants.ts`. README "Configuration" lists the same values.
 */

/** Time budget of one request, retries included, ms. */
export const DEFAULT_DEADLINE_MS = 5000

/** Most attempts (hedges included) one request makes before giving up. */
export const DEFAULT_MAX_ATTEMPTS = 6

/** Time constant of the peak-EWMA latency estimate, ms (Finagle and linkerd use 10 s). */
export const DEFAULT_EWMA_TAU_MS = 10_000

/**
 * Least weight of a lower latency sample in the peak-EWMA estimate: a peer that
 * answered slowly once recovers within about 8 fast answers, not only with time.
 */
export const DEFAULT_EWMA_MIN_WEIGHT = 0.25

/** Latency assumed for a candidate with no sample yet, ms: optimistic enough that new peers get tried. */
export const DEFAULT_PRIOR_LATENCY_MS = 50

/** Extra cost of a candidate that has to fetch the model before running it, ms. */
export const DEFAULT_FETCH_PENALTY_MS = 2000

/** Cost multiplier of a node that is training a federated round (training shares its CPU). */
export const DEFAULT_TRAINING_FACTOR = 2

/** Weight of gossiped CPU utilisation: cost is multiplied by `1 + weight * cpu`. */
export const DEFAULT_CPU_WEIGHT = 0.5

/**
 * The local node is kept, without sampling, when it has a free slot and its cost
 * is at most this multiple of the cheapest peer's (network hops are not free).
 */
export const DEFAULT_LOCAL_BIAS = 1.25

/**
 * A peer's load figure (its gossiped report, or the load it answered with) at
 * most this old is fresh, ms; the scheduler samples among fresh holders when it
 * knows enough of them (`DEFAULT_MIN_FRESH`), because in a large mesh a stale
 * report says "idle" about a peer that every other client may be filling.
 */
export const DEFAULT_FRESH_MS = 1000

/** The scheduler samples only among fresh holders when at least this many are eligible (0: never prefer fresh ones). */
export const DEFAULT_MIN_FRESH = 0

/**
 * Load probe (`load-probe.ts`): before power of two choices compares two peers,
 * the client asks those whose load figure is older than this for their load
 * now, ms. In the scale simulation this brings the p99 to that of full
 * knowledge, where fresher gossip and loads answered with responses do not.
 */
export const DEFAULT_PROBE_AFTER_MS = 50

/** Longest a load probe (dial, question, answer) may take, ms; on timeout the choice uses what it knows. */
export const DEFAULT_PROBE_TIMEOUT_MS = 250

/** Concurrent load probe streams per connection, each way. */
export const DEFAULT_PROBE_MAX_STREAMS = 64

/** The load probe's protocol id, version and answer size (see docs/protocols.md). */
export const LOAD_PROBE_PROTOCOL = '/edge-mesh/load-probe/1.0.0'
export const LOAD_PROBE_VERSION = 1
export const LOAD_PROBE_FRAME_BYTES = 9

/**
 * With at most this many holders the scheduler compares them all (exact, and as
 * cheap as sampling); above it, power of two choices.
 */
export const DEFAULT_FULL_SCAN_MAX = 8

/**
 * How the client chooses where an attempt runs: `p2c`, the cost-based scheduler;
 * `random` and `round-robin` are load-blind baselines for benchmarks.
 */
export const DEFAULT_SCHEDULING_POLICY = 'p2c'

/** First backoff of a failed peer, ms; doubles with each further failure. */
export const DEFAULT_BACKOFF_BASE_MS = 250

/** Longest backoff of a failed peer, ms. */
export const DEFAULT_BACKOFF_MAX_MS = 30_000

/** Backoff of a peer that answered PeerBusy (its queue was full), ms. Does not grow. */
export const DEFAULT_BUSY_BACKOFF_MS = 100

/** Whether slow requests are hedged on a second candidate. */
export const DEFAULT_HEDGING = true

/** Hedges allowed per request, as a fraction (token bucket refill per request). */
export const DEFAULT_HEDGE_RATIO = 0.05

/** Most hedge tokens saved up, so a quiet period cannot fund a burst of hedges. */
export const DEFAULT_HEDGE_BURST = 10

/** Latency samples needed in the window before the p95 is trusted as a hedge delay. */
export const DEFAULT_HEDGE_MIN_SAMPLES = 20

/** Length of the latency percentile window, ms. */
export const DEFAULT_LATENCY_WINDOW_MS = 60_000

/** Number of sub-windows the percentile window rotates through. */
export const DEFAULT_LATENCY_SLOTS = 6

/** Relative precision of the percentile histogram buckets (5 %). */
export const DEFAULT_HISTOGRAM_PRECISION = 0.05

/**
 * Late binding of `prefer: auto` requests: when the node the scheduler would
 * choose already has this many requests per execution slot (running, queued
 * there, or sent by this node and not answered), the request goes to another
 * holder that has room, or, when all are full, waits in this node's client,
 * and is placed when an attempt of this node ends (or
 * after `PARK_RECHECK_MS`). A burst then flows to whichever node frees a slot
 * first, instead of being split up front, which would queue half of it on a
 * peer (past that peer's stream and byte limits for large inputs) while this
 * node might finish its half sooner. 0 turns it off.
 */
export const DEFAULT_PARK_LOAD_PER_SLOT = 2

/**
 * Late binding keeps at least this many more requests per slot outstanding at
 * a peer than at this node (more when the peer's round trip is long beside its
 * service time, see `MAX_REMOTE_PIPELINE_EXTRA`): the peer's next request is on the wire (and waits for this
 * node's event loop) while the peer works, so the peer does not idle between
 * answers. With one idle peer, a burst then drains on both nodes at the rate
 * each serves it.
 */
export const DEFAULT_REMOTE_PIPELINE_EXTRA = 1

/**
 * Most extra requests late binding keeps at a peer (see `pipelineExtra` in
 * `parked.ts`): the extra grows with the measured round trip over the peer's
 * service time, up to this many, so a fast model behind a slow link is not
 * queued deep at one peer.
 */
export const MAX_REMOTE_PIPELINE_EXTRA = 3

/**
 * Weight of a new sample in the client's per-peer averages of service time and
 * round trip (what `pipelineExtra` reads).
 */
export const PIPELINE_SAMPLE_WEIGHT = 0.2

/** A waiting (`parked`) request looks again after this long even if no attempt of this node ended, ms (peers' load changes arrive by gossip). */
export const PARK_RECHECK_MS = 50

/**
 * The load estimate (`load-estimate.ts`) remembers this node's finished requests
 * to each peer this long, ms, to tell which of them a peer's load figure of that
 * time included; a figure older than this is treated as including none.
 */
export const DEFAULT_OWN_HISTORY_MS = 60_000

/**
 * Time constant with which an old load figure's weight fades toward the typical
 * load of the peers seen lately, ms (see `fadeStale` in `load-estimate.ts`).
 */
export const DEFAULT_LOAD_FADE_MS = 1000

/**
 * A gossiped load figure is dated by its arrival here, up to this long after the
 * peer took it (gossip hops, an event loop busy with a local inference), ms: this
 * node's requests answered within that window may still be in the figure, and
 * are not counted as other clients' work.
 */
export const DEFAULT_GOSSIP_FIGURE_WINDOW_MS = 250

/** At most this many finished requests per peer are remembered for the load estimate. */
export const DEFAULT_OWN_HISTORY_MAX = 256
