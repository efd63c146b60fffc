/**
 * Documented defaults of the federated capability. Every option of
 * `runFederated`, the strategies, the memory grid and the weight codec falls
 * back to a value from this file.
 */

/**
 * Fraction C of the known clients asked to train each round when more than
 * `SMALL_MESH_MAX_CLIENTS` are available (McMahan et al. use 0.1); with fewer,
 * the default is 1 (sampling.ts).
 */
export const DEFAULT_FRACTION = 0.1

/** Up to this many available clients at a run's start, the default fraction is 1: every client trains every round. */
export const SMALL_MESH_MAX_CLIENTS = 10

/** Fewest updates a round needs to aggregate when the fraction is below 1 (with fraction 1: every sampled client); fewer when the deadline passes means a retry. */
export const DEFAULT_MIN_PARTICIPANTS = 2

/** Local epochs E per round. */
export const DEFAULT_EPOCHS = 1

/** Local batch size B (the paper's B=10); `0` means the whole local data set (FedSGD). */
export const DEFAULT_BATCH_SIZE = 10

/** Local SGD learning rate. */
export const DEFAULT_LEARNING_RATE = 0.05

/** FedProx proximal weight mu; 0 is plain FedAvg local training. */
export const DEFAULT_PROXIMAL_MU = 0

/** How long a round waits for updates before it aggregates what arrived: 60 s. */
export const DEFAULT_ROUND_DEADLINE_MS = 60_000

/** How many times a round that got too few updates is tried again before the run aborts. */
export const DEFAULT_MAX_ROUND_RETRIES = 2

/** Fraction cut from each end of every coordinate by the trimmed mean. */
export const DEFAULT_TRIM_BETA = 0.1

/** How many local trainings the in-memory grid runs at once (one shared model runtime). */
export const DEFAULT_MEMORY_GRID_CONCURRENCY = 1

/** Seed of the run's RNG (client sampling, partitions, attacks) when none is given. */
export const DEFAULT_SEED = 0

/** Update multiplier of the `scale` attack. */
export const DEFAULT_ATTACK_SCALE = 10

/** Standard deviation of the Gaussian noise added by the `noise` attack. */
export const DEFAULT_ATTACK_NOISE_STD = 1

/** Largest number of tensors a weight record may declare on the wire. */
export const DEFAULT_CODEC_MAX_TENSORS = 1024

/** Largest encoded weight record accepted: 64 MiB (MNIST's 784-200-200-10 MLP is 0.8 MB). */
export const DEFAULT_CODEC_MAX_BYTES = 64 * 1024 * 1024

/** Largest tensor rank accepted. */
export const DEFAULT_CODEC_MAX_RANK = 8

/** Longest tensor name accepted, in UTF-8 bytes. */
export const DEFAULT_CODEC_MAX_NAME_BYTES = 512

/** Size of the data chunks the encoder yields: 64 KiB. */
export const DEFAULT_CODEC_CHUNK_BYTES = 64 * 1024

/**
 * Most updates a round of a non-streaming (robust) strategy may buffer: each is
 * a whole model held until aggregation (0.8 MB for MNIST's 2NN, so about
 * 160 MB at this limit). FedAvg and FedSGD stream and have no limit.
 */
export const DEFAULT_MAX_BUFFERED_UPDATES = 200

/** Accuracy targets reported by the MNIST experiment. */
export const DEFAULT_ACCURACY_TARGETS = [0.85, 0.9, 0.95]

/** Digits in FLTrust's root data set in experiments (the paper's choice). */
export const DEFAULT_ROOT_EXAMPLES = 100

/*
 * Bounds on what a peer may ask of a node (docs/security.md, "Federated runs").
 * Each is configurable (`FederatedInit.bounds`, `--fed-max-*` flags); a request
 * beyond one is refused with LimitExceededError and counted in /metrics.
 */

/** Most local epochs one ANNOUNCE (or a run spec) may ask for. */
export const DEFAULT_MAX_EPOCHS = 50

/** Most rounds one run may have (run specs from the API or START). */
export const DEFAULT_MAX_ROUNDS = 1000

/** Longest deadline a participant accepts for one job (ANNOUNCE `deadlineMs`), and longest round deadline of a run spec, ms: 10 min. */
export const DEFAULT_MAX_DEADLINE_MS = 10 * 60_000

/** Most runs this node coordinates at once (further starts are refused). */
export const DEFAULT_MAX_COORDINATED_RUNS = 4

/** Most distinct runs this node trains for at once as a participant. */
export const DEFAULT_MAX_PARTICIPATING_RUNS = 2

/** Largest `numExamples` a participant may declare in ACCEPT (and so claim in PUSH): 1,000,000. */
export const DEFAULT_MAX_EXAMPLES = 1_000_000

/** Name of the dataset a bare `--data <spec>` declares; its entries are the node's virtual clients. */
export const DEFAULT_DATASET_NAME = 'default'

/*
 * Head fine-tuning runs (a run spec with `base` and `head`, `mesh/head.ts`):
 * each participant computes its examples' features through the frozen base.
 */

/** Most examples per client whose features a participant computes for one run (`--fed-max-feature-examples`): MobileNetV2 costs ~40 ms each on wasm, so ~40 s. */
export const DEFAULT_MAX_FEATURE_EXAMPLES = 1024

/** Examples per client a head run asks features of when its spec does not say (`head.examples`). */
export const DEFAULT_HEAD_EXAMPLES = 256

/** Held-out examples the coordinator of a head run evaluates on when its spec does not say (`head.evalExamples`). */
export const DEFAULT_HEAD_EVAL_EXAMPLES = 200

/** Hidden layer widths of a new head when the spec does not say (`head.hidden`): one layer of 64. */
export const DEFAULT_HEAD_HIDDEN: readonly number[] = [64]

/** Feature sets a node keeps computed (per client, base and size, and the coordinator's held-out sets), least recently used dropped first. */
export const MAX_FEATURE_SETS = 8
