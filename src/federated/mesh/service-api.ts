/**
 * The public interface of the federated service, its options (each with its
 * default) and the components it takes from the node.
 */
import type { RunSpec } from './runs.js'
import type { FederatedEvents, FederatedView } from './service-types.js'
import type { LoadView, LocalLoad, NodeRole, TopicPubSub } from '../../gossip/types.js'
import type { ModelRuntime } from '../../model/types.js'
import type { ModelTransfer } from '../../model-transfer/index.js'
import type { AbortOptions, ComponentLogger, Libp2pEvents, PeerId, TypedEventTarget } from '@libp2p/interface'
import type { TypedEventTarget as EventTarget } from 'main-event'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'

export interface FederatedInit {
  /** Local training data (`--data`): see `data-spec.ts`. @default none (the node does not train) */
  data?: string
  /** Runs live in `<dataDir>/federated`. @default '.edge-mesh' */
  dataDir?: string
  /** A seed coordinates runs started anywhere. @default 'edge' */
  role?: NodeRole
  /** Largest weight record accepted, bytes. @default 48 MiB */
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
}
