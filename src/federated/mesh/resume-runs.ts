/**
 * Resuming at start the runs this node coordinated: unfinished ones are
 * relaunched from their last checkpoint, finished, cancelled and unreadable
 * ones are listed. Kept apart from the service, which only launches and
 * lists what this decides.
 */
import { FileCheckpointStore } from '../checkpoint.js'
import { restoreHistory } from './coordinator.js'
import { freshSummary, unreadableSummary } from './runs.js'
import type { RunFiles, RunRecordFile } from './runs.js'
import type { FederatedComponents } from './service-api.js'
import type { RunSummary } from './service-types.js'
import type { Logger } from '@libp2p/interface'

export interface ResumeRunsHost {
  files: RunFiles
  selfId: string
  log: Logger
  models: FederatedComponents['models']
  /** True for a run already held in memory. */
  isOwn(runId: string): boolean
  /** Make the base model available (loaded or fetched). */
  ensureModel(modelId: string): Promise<void>
  /** Cut a head run's frozen base again from the installed package. */
  ensureFeatureBase(head: NonNullable<RunRecordFile['head']>): Promise<void>
  /** Coordinate an unfinished run again. */
  launch(record: RunRecordFile, summary: RunSummary): void
  /** List a finished (or unreadable) run. */
  list(summary: RunSummary, record?: RunRecordFile): void
}

/** Resume the unfinished runs this node coordinated; list the finished, cancelled and unreadable ones. */
export async function resumeRuns (host: ResumeRunsHost): Promise<void> {
  const { files, selfId, log, models } = host
  for (const scanned of await files.scan()) {
    if (host.isOwn(scanned.id)) continue
    if (scanned.problem !== undefined) {
      // listed as failed, never resumed; the parse error (it may quote the file) stays in the local log
      log.error('run %s is not resumed: %s (%s)', scanned.id, scanned.problem, (scanned.cause as Error | undefined)?.message)
      host.list(unreadableSummary(scanned, selfId), scanned.record)
      continue
    }
    const record = scanned.record as RunRecordFile
    if (record.coordinator !== selfId) continue
    const s: RunSummary = scanned.summary ?? freshSummary(record)
    if (s.state !== 'running') {
      host.list(s, record)
      continue
    }
    // The checkpoint may be a round ahead of summary.json (stopped between the two writes).
    await restoreHistory(new FileCheckpointStore(files.dir(record.id)), s)
    try {
      if (record.mlp !== undefined && !models.has(record.baseModelId)) await models.createMlp(record.mlp)
      await host.ensureModel(record.baseModelId)
      if (record.head !== undefined) await host.ensureFeatureBase(record.head)
    } catch (err: any) {
      s.state = 'failed'
      s.error = { name: err?.name ?? 'Error', message: 'cannot resume: the base model is unavailable' }
      log('run %s cannot resume: %s', record.id, err?.message)
    }
    log('resuming run %s after round %d', record.id, s.completedRounds)
    if (s.state === 'running') host.launch(record, s)
    else host.list(s, record)
  }
}
