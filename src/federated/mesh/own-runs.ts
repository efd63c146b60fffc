/**
 * The runs a federated service coordinates: their book (summary, record,
 * abort controller, pending save), how one is launched, cancelled and
 * resumed at start, and how every change of a summary is saved, announced as
 * events and published on run gossip. Kept apart from the service, which
 * holds the lifecycle, the protocol handler and the participant side.
 */
import { coordinate } from './coordinator.js'
import { resumeRuns } from './resume-runs.js'
import { cancelOwnRun } from './run-control.js'
import { publishRunSummary } from './run-gossip-pubsub.js'
import type { CoordinatorContext } from './coordinator.js'
import type { HeadFeatures } from './head.js'
import type { MeshGrid } from './mesh-grid.js'
import type { RunEventAnnouncer } from './run-events.js'
import type { OwnRun } from './run-control.js'
import type { RunFiles, RunRecordFile } from './runs.js'
import type { FederatedComponents } from './service-api.js'
import type { RunSummary } from './service-types.js'
import type { Logger } from '@libp2p/interface'

export interface OwnRunsInit {
  components: Pick<FederatedComponents, 'pubsub' | 'connectionManager' | 'models'>
  files: RunFiles
  selfId: string
  log: Logger
  /** The open grid of each coordinated run (the coordinator context registers them). */
  grids: Map<string, MeshGrid>
  features: HeadFeatures
  events: RunEventAnnouncer
  /** The context `coordinate` runs in; `changed` is this book's. */
  context(changed: (summary: RunSummary) => void): CoordinatorContext
  ensureModel(modelId: string): Promise<void>
  /** False once the service stopped: nothing is published then. */
  started(): boolean
}

export class OwnRuns {
  private readonly own = new Map<string, OwnRun>()
  private seq = Date.now()

  constructor (private readonly init: OwnRunsInit) {}

  /** Every run in the book. */
  all (): OwnRun[] {
    return [...this.own.values()]
  }

  get (id: string): OwnRun | undefined {
    return this.own.get(id)
  }

  /** Runs still coordinating. */
  running (): number {
    return this.all().filter((r) => r.summary.state === 'running').length
  }

  /** Start coordinating `record` from `summary`. */
  launch (record: RunRecordFile, summary: RunSummary): void {
    const controller = new AbortController()
    const run: OwnRun = { record, summary, controller, saving: Promise.resolve(), done: Promise.resolve() }
    this.own.set(record.id, run)
    this.changed(summary)
    run.done = coordinate(this.init.context((s) => { this.changed(s) }), record, summary, controller.signal)
      .catch((err) => { this.init.log('run %s stopped: %s', record.id, err?.message) })
  }

  /** A finished (or unreadable) run listed from disk. */
  private list (summary: RunSummary, record?: RunRecordFile): void {
    this.own.set(summary.id, { record, summary, controller: new AbortController(), saving: Promise.resolve(), done: Promise.resolve() })
  }

  /** Stop a run, tell the peers it asked to train, and wait until it is saved `cancelled`. */
  async cancel (run: OwnRun): Promise<void> {
    await cancelOwnRun(run, {
      connectionManager: this.init.components.connectionManager,
      grid: this.init.grids.get(run.summary.id),
      log: this.init.log,
      changed: (summary) => { this.changed(summary) }
    })
  }

  /** Abort every run (the service stops), wait for their saves, and empty the book. */
  async stopAll (reason: Error): Promise<void> {
    for (const run of this.own.values()) run.controller.abort(reason)
    await Promise.all(this.all().map(async (r) => r.saving))
    this.own.clear()
  }

  /** Save and publish a run's summary. */
  private changed (summary: RunSummary): void {
    const run = this.own.get(summary.id)
    if (run === undefined) return
    const copy = structuredClone(summary)
    this.init.events.announce(copy)
    run.saving = run.saving.then(async () => this.init.files.saveSummary(copy)).catch((err) => { this.init.log.error('saving run %s failed: %e', summary.id, err) })
    this.publish(copy)
  }

  private publish (summary: RunSummary): void {
    if (!this.init.started()) return
    publishRunSummary(this.init.components.pubsub, this.init.log, ++this.seq, summary)
  }

  /** Publish the running runs again (run gossip's periodic refresh). */
  readonly republish = (): void => {
    for (const run of this.own.values()) if (run.summary.state === 'running') this.publish(structuredClone(run.summary))
  }

  /** Resume the unfinished runs this node coordinated; list the finished, cancelled and unreadable ones. */
  async resume (): Promise<void> {
    await resumeRuns({
      files: this.init.files,
      selfId: this.init.selfId,
      log: this.init.log,
      models: this.init.components.models,
      isOwn: (runId) => this.own.has(runId),
      ensureModel: async (modelId) => this.init.ensureModel(modelId),
      ensureFeatureBase: async (head) => this.init.features.ensureBase(head),
      launch: (record, summary) => { this.launch(record, summary) },
      list: (summary, record) => { this.list(summary, record) }
    })
  }
}
