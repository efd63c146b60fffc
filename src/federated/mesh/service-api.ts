/**
 * The public interface of the federated service, its options (each with its
 * default) and the components it takes from the node.
 */
import type { FederatedBounds } from './bounds.js'
import type { ByzantineBehaviour } from './byzantine.js'
import type { RunSpec } from './runs.js'
import type { FederatedEvents, FederatedView, RunSummary } from './service-types.js'
import type { LoadView, LocalLoad, NodeRole, TopicPubSub } from '../../gossip/types.js'
import type { ModelRuntime } from '../../model/types.js'
import type { ModelTransfer } from '../../model-transfer/index.js'
import type { AbortOptions, ComponentLogger, Libp2pEvents, PeerId, TypedEventTarget } from '@libp2p/interface'
import type { TypedEventTarget as EventTarget } from 'main-event'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'

export interface FederatedInit {
  /**
   * Local datasets (`--data`, repeatable): `<name>=<spec>` or a bare `<spec>`
   * (named `default`); see `data-spec.ts`. The node trains on `default` (one
   * virtual client per comma-separated spec); run specs refer to datasets by
   * name (`evalData`, `rootData`). @default none (the node does not train)
   */
  data?: string | string[]
  /** Runs live in `<dataDir>/federated`. @default '.edge-mesh' */
  dataDir?: string
  /** A seed does not forward runs started on it. @default 'edge' */
  role?: NodeRole
  /** Peer ids trusted as coordinators and to START/CANCEL runs (`--trust`). @default [] */
  trust?: string[]
  /** File of trusted peer ids, one per line, `#` comments (`--trust-file`), read at start. @default none */
  trustFile?: string
  /** Bootstrap multiaddrs: the peers pinned by `/p2p/<id>` are trusted. @default [] */
  bootstrap?: string[]
  /** Trust every peer of the private mesh (`--trust-mesh`); only effective with `meshKey`. @default false */
  trustMesh?: boolean
  /** True when the node runs with a mesh key (set by the node). @default false */
  meshKey?: boolean
  /** Bounds on what peers and users may ask (`--fed-max-*`). @default see `constants.ts` */
  bounds?: Partial<FederatedBounds>
  /** Experiment-only: this node's own byzantine behaviour (`--byzantine`), see `byzantine.ts`. Never set by a peer. @default none */
  byzantine?: string | ByzantineBehaviour
  /** Largest weight record accepted, bytes (overrides `bounds.maxWeightBytes`). @default 48 MiB */
  maxRecordBytes?: number
  /** Longest a served fedavg stream stays open, ms. @default 120000 */
  streamTimeoutMs?: number
  /** @default 32 */
  maxInboundStreams?: number
  /** Republish interval of running runs' summaries, ms. @default 5000 */
  runGossipIntervalMs?: number
  /** Global models kept loaded per run. @default 3 */
  keepGlobals?: number
  /** How long a run waits for enough clients before round 1, ms. @default 60000 */
  waitForClientsMs?: number
}

/** The slice of gossipsub the service uses (run gossip). */
export type RunPubSub = TopicPubSub

export interface FederatedComponents {
  peerId: PeerId
  registrar: Pick<Registrar, 'handle' | 'unhandle'>
  connectionManager: Pick<ConnectionManager, 'openStream'>
  logger: ComponentLogger
  models: ModelRuntime
  loadView: LoadView
  localLoad: LocalLoad
  pubsub: RunPubSub
  events: TypedEventTarget<Libp2pEvents>
  /** Fetches a run's base model when this node lacks it (the node's one model transfer service). */
  modelTransfer: Pick<ModelTransfer, 'ensure'>
}

/** Where a started run is coordinated. */
export interface StartedRun {
  id: string
  coordinator: string
}

/** The federated service as the API and CLI use it. */
export interface Federated extends FederatedView, EventTarget<FederatedEvents> {
  /**
   * Start a run on the coordinator; resolves once it is started. The spec is
   * checked (ranges, names) and completed with defaults first.
   * @throws InvalidConfigError naming a bad field
   */
  startRun(spec: RunSpec, options?: AbortOptions): Promise<StartedRun>
  /**
   * Cancel a run mesh-wide: on its coordinator the run stops, its participants
   * are told with CANCEL and it is saved `cancelled` (never resumed); on
   * another node the request is forwarded to the coordinator with CANCEL.
   * Resolves with the run's summary as this node knows it.
   */
  cancelRun(id: string, options?: AbortOptions): Promise<RunSummary>
}
