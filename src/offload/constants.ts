/**
 * Wire and execution defaults of the offload capability: protocol ids, frame
 * limits, stream limits and the execution engine (slots, queue, micro-batcher).
 * The byte layouts are specified in docs/protocols.md. Scheduler and client
 * defaults live in `scheduler-constants.ts`, model distribution's in
 * `src/model-transfer/constants.ts`.
 */

/** Protocol id of one inference request/response per stream. */
export const INFER_PROTOCOL = '/edge-mesh/infer/1.0.0'

export { MAX_ERROR_MESSAGE_BYTES, MAX_MODEL_ID_BYTES } from '../wire/constants.js'

/**
 * Protocol id of pipelined inference: one long-lived stream per peer carrying
 * id-tagged request and response frames (docs/protocols.md). Callers propose it
 * first and fall back to `INFER_PROTOCOL` for peers that do not speak it.
 */
export const INFER_PIPE_PROTOCOL = '/edge-mesh/infer/1.1.0'

/** Version byte that starts every `/edge-mesh/infer/1.1.0` frame. */
export const PIPE_WIRE_VERSION = 2

/** Most requests one 1.1.0 request frame may carry (coalesced by the caller). */
export const MAX_PIPE_REQUESTS_PER_FRAME = 64

/**
 * Requests a caller may have in flight on one 1.1.0 stream; the server answers
 * PeerBusy (code 7) to requests beyond it, and edge-mesh callers queue them
 * locally instead of sending them. Twice the old per-connection stream limit.
 */
export const DEFAULT_PIPE_MAX_INFLIGHT = 64

/** Inbound 1.1.0 streams per connection (a caller needs one); libp2p resets the ones beyond. */
export const DEFAULT_PIPE_MAX_INBOUND_STREAMS = 4

/**
 * A 1.1.0 stream with no request in flight for this long is closed, ms: by the
 * caller after `DEFAULT_PIPE_IDLE_TIMEOUT_MS`, by the server after twice that
 * (so the caller, who reopens lazily, normally closes first).
 */
export const DEFAULT_PIPE_IDLE_TIMEOUT_MS = 60_000

/**
 * Client-side coalescing: requests to the same peer for the same model (same
 * input dtypes and per-example shapes) that are waiting when the stream's
 * writer runs go in one request frame. An idle writer runs at the end of the
 * current microtask queue (a lone request never waits for a timer; requests
 * issued together, e.g. by `Promise.all`, share a frame); after a send it
 * waits for the end of the event-loop turn (`setImmediate`), or for
 * `onDrain()` under backpressure, and what queued meanwhile shares the next
 * frames. So the default window is "the current burst of callbacks, and
 * whatever is queued while the previous send is in progress", never a delay.
 */
export const DEFAULT_COALESCE = true

/** Most requests coalesced into one frame (the engine's default micro-batch size). */
export const DEFAULT_MAX_COALESCE_REQUESTS = 16

/**
 * A 1.1.0 send of at most this many bytes is copied into one buffer first. The
 * TCP transport writes every chunk of what it is given with its own socket
 * write (a system call and, with Nagle off, a segment), and Noise encrypts
 * each chunk with its own `update`: a request of header, tensor header and
 * data costs three more writes than one contiguous buffer would (9 against 6
 * per 2NN request, counted). The copy grows with the frame while the writes
 * saved stay three, so large frames (over 256 KiB) are sent as they are.
 */
export const MAX_JOINED_SEND_BYTES = 256 * 1024

/** On 1.1.0, send int32 inputs whose values all fit 0..255 and float32 inputs whose values are all k / 255 (images) one byte per value. */
export const DEFAULT_NARROW_UINT8 = true

/** How long a peer that refused 1.1.0 is remembered as 1.0.0-only before 1.1.0 is proposed again, ms. */
export const LEGACY_PEER_MEMORY_MS = 10 * 60_000

/** Version byte that starts every `/edge-mesh/infer/1.0.0` frame. */
export const INFER_WIRE_VERSION = 1

/** Highest tensor rank accepted. */
export const MAX_TENSOR_RANK = 8

/** Most tensors in one request or response. */
export const MAX_TENSORS = 32

/** Largest `/edge-mesh/infer/1.0.0` frame accepted, bytes (8 MiB). */
export const DEFAULT_MAX_INFER_FRAME_BYTES = 8 * 1024 * 1024

/** Longest a served inference stream may stay open, ms; the stream is aborted on expiry. */
export const DEFAULT_INFER_STREAM_TIMEOUT_MS = 30_000

/** Concurrent inbound inference streams per connection; the handler answers PeerBusy (code 7) to streams beyond it. */
export const DEFAULT_INFER_MAX_INBOUND_STREAMS = 32

/**
 * Inbound inference streams per connection that libp2p's registrar accepts, as
 * a multiple of `maxInboundStreams`. The registrar resets streams beyond its
 * limit with no frame, so it is set above the documented limit and the
 * handler itself answers the streams in between with a typed PeerBusy frame.
 */
export const INFER_REGISTRAR_STREAMS_FACTOR = 4

/**
 * Concurrent outbound inference streams per connection: no more than a peer
 * serves, so this node never opens a stream only to be answered busy.
 */
export const DEFAULT_INFER_MAX_OUTBOUND_STREAMS = DEFAULT_INFER_MAX_INBOUND_STREAMS

/**
 * Execution slots of the engine: how many `predict` calls (a micro-batch is one
 * call) run at once. TF.js kernels on one device mostly serialise, so a small
 * number keeps latency predictable while overlapping encode/decode and I/O.
 */
export const DEFAULT_CAPACITY = 4

/** Requests that may wait for a slot; one more is refused at once with PeerBusyError. */
export const DEFAULT_MAX_QUEUE = 32

/** Micro-batching of concurrent requests for the same model and per-example shapes. */
export const DEFAULT_BATCHING = true

/** Most rows (sum of the requests' leading dimensions) in one micro-batch. */
export const DEFAULT_MAX_BATCH_SIZE = 16

/**
 * Longest the oldest request of a forming micro-batch waits for company while a
 * slot is free, ms. The default 0 never delays a request: batches form from the
 * requests that queue while every slot is busy (adaptive batching), so a lone
 * request pays nothing and a saturated node still runs full batches. Raise it
 * to also trade a little latency for fuller batches at moderate load.
 */
export const DEFAULT_MAX_BATCH_DELAY_MS = 0

/**
 * Longest a micro-batch should compute, ms: a batch takes at most as many rows
 * as the model's measured time per row fits in this (at least 1, at most
 * `DEFAULT_MAX_BATCH_SIZE`). TF.js on wasm or cpu computes a batch without
 * yielding, so this bounds how long the node's event loop is deaf to its peers
 * and its HTTP clients: 16 rows of a 0.06 ms model still batch, while a 50 ms
 * vision model runs one row at a time (batching it gains a few per cent here,
 * and a long batch would leave an idle peer waiting for its next request).
 */
export const DEFAULT_MAX_BATCH_MS = 100

/** Service-time stretch factor that emulates a slower device (1 = native speed). */
export const DEFAULT_SIMULATE_SLOWDOWN = 1

/** Fixed per-request service time that emulates a slower device, ms (0 = off: native speed). */
export const DEFAULT_SIMULATE_SERVICE_MS = 0

/** A request or batch larger than this many rows is run in chunks, yielding between them. */
export const MAX_ROWS_PER_PREDICT = 64

/** Request bytes one peer may have in flight on `/edge-mesh/infer/1.0.0` at once (announced frame lengths). */
export const DEFAULT_MAX_PEER_INFLIGHT_BYTES = 4 * 1024 * 1024

/** Time a caller has to deliver its request frame after opening a stream, ms. */
export const DEFAULT_REQUEST_READ_TIMEOUT_MS = 5000

/** A peer that sends this many malformed infer frames within `MALFORMED_WINDOW_MS` is banned. */
export const MAX_MALFORMED_PER_WINDOW = 20
export const MALFORMED_WINDOW_MS = 10_000
/** How long an abusive peer stays banned, ms. */
export const ABUSE_BAN_MS = 10 * 60_000

/**
 * Share of remote inference results this node re-runs (locally when it holds
 * the model, else on a second peer) and compares, 0..1. At 1 % a peer that lies
 * on every answer is caught after about 100 of its answers; see docs/security.md.
 */
export const DEFAULT_SPOT_CHECK_RATE = 0.01

/** Largest absolute difference between two float outputs that still counts as the same result. */
export const SPOT_CHECK_TOLERANCE = 1e-4

/** How long a peer caught answering wrongly stays banned, ms (24 h). */
export const SPOT_CHECK_BAN_MS = 24 * 60 * 60_000

/** Where inference is offloaded by default: any peer (`trusted` restricts it to the trust list). */
export const DEFAULT_OFFLOAD_TO = 'any'

/** Most connected peers asked for a model that no load report announces yet (asked one after another). */
export const MODEL_LOOKUP_MAX_PEERS = 8
