/**
 * The public face of the federated service on a node, as the control API,
 * the CLI and the dashboard see it.
 */

/** One completed round of a run. */
export interface RoundSummary {
  round: number
  accuracy: number
  loss: number
  participants: number
  /** Client ids whose updates were aggregated (`<peerId>#<index>` on the mesh). */
  participantIds: string[]
  failures: number
  /** Why participants failed, e.g. `InvalidUpdateError`, `DeadlineExceededError`. */
  failureReasons: string[]
  wallMs: number
  bytesUp: number
  bytesDown: number
  /** Content id of the global model after this round. */
  globalModelId: string
  /** (ε, δ) spent up to this round, when the run adds DP noise. */
  epsilon?: number
  delta?: number
}

/** `cancelled`: stopped by the user on the coordinator (`DELETE /federated/runs/:id`, `train stop`); never resumed. */
export type RunState = 'running' | 'completed' | 'failed' | 'aborted' | 'cancelled'

/** A federated run as shown by `GET /federated/runs/:id`. */
export interface RunSummary {
  id: string
  state: RunState
  strategy: string
  /** Rounds asked for. */
  rounds: number
  /** Rounds completed so far. */
  completedRounds: number
  /** Peer id of the coordinator. */
  coordinator: string
  /** Content id of the latest global model. */
  globalModelId: string
  startedAt: number
  finishedAt?: number
  /** Why the run failed, was aborted or cancelled (never file content: details stay in the coordinator's log). */
  error?: { name: string, message: string }
  /** Why a completed run ran fewer rounds than asked: its target ε was reached. */
  stopReason?: 'target-epsilon'
  /**
   * While a running run waits (for clients before round 1): what it waits for
   * and how to fix it, e.g. `waiting-for-clients: 0 of 2 clients joined; start nodes with --data …`.
   */
  waiting?: string
  /** Held-out accuracy and loss of the initial model (round 0 of the curve), evaluated before round 1. */
  initial?: { accuracy: number, loss: number }
  /** How clients are sampled each round and why (the defaults depend on the clients at the start), set when round 1 starts. */
  sampling?: string
  /** Differential privacy of the run: its settings and the (ε, δ) spent so far. */
  privacy?: { mode: 'central' | 'local', clipNorm: number, noiseMultiplier: number, delta: number, targetEpsilon?: number, epsilon: number }
  history: RoundSummary[]
}

/** What the API and dashboard read from the federated service. */
export interface FederatedView {
  runs(): RunSummary[]
  run(id: string): RunSummary | undefined
  /** Federated requests refused by this node, by reason (`untrusted_announce`, `epochs`, ...), for /metrics. */
  refusals?(): Record<string, number>
  /** Secure aggregation requests this node received from trusted coordinators, by stage (setup|neighbours|inbox|unmask), for /metrics. */
  secAggStages?(): Record<string, number>
}

/** A round the coordinator aggregated. */
export interface RoundAggregated {
  runId: string
  round: RoundSummary
}

/** Events of the federated service (on the node that coordinates the run). */
export interface FederatedEvents {
  /** A round of a run this node coordinates was aggregated; `detail.round.globalModelId` is the new global model. */
  'round:aggregated': CustomEvent<RoundAggregated>
  /** A run this node coordinates completed all its rounds. */
  'run:finished': CustomEvent<RunSummary>
  /** A run this node coordinates failed, was aborted or cancelled; `detail.state` and `detail.error` say why. */
  'run:failed': CustomEvent<RunSummary>
}
