/**
 * The lines a node's operator reads about federated work, as Flower's server
 * prints them: the coordinator one line per round (participants, failures,
 * accuracy, loss, bytes, time), each participant one line per update it
 * pushed. They go to the `info` scope of the service's logger
 * (`edge-mesh:federated:info`), which `edge-mesh start` and `seed` print
 * (`INFO_LOG_NAMESPACES`).
 */
import type { RoundSummary } from './service-types.js'
import type { Logger } from '@libp2p/interface'

/** The debug namespaces of info lines; a node enables them next to `DEBUG`. */
export const INFO_LOG_NAMESPACES = 'edge-mesh:*:info'

/** The info logger below a service's logger. */
export function infoLogger (log: Logger): Logger {
  return log.newScope('info')
}

function mb (bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`
}

/** The coordinator's line for one aggregated round. */
export function roundLogLine (runId: string, rounds: number, r: RoundSummary): string {
  const failed = r.failures === 0 ? '' : ` (${r.failureReasons.slice(0, 3).join('; ')}${r.failureReasons.length > 3 ? '; …' : ''})`
  return `run ${runId} round ${r.round}/${rounds}: ${r.participants} participants, ${r.failures} failures${failed}, ` +
    `accuracy ${r.accuracy.toFixed(4)}, loss ${r.loss.toFixed(4)}, up ${mb(r.bytesUp)}, down ${mb(r.bytesDown)}, ${(r.wallMs / 1000).toFixed(2)} s`
}

/** What a participant did for one round, as its line says it. */
export interface ParticipantRound {
  runId: string
  round: number
  clientIndex: number
  numExamples: number
  loss: number
  bytesUp: number
  bytesDown: number
  trainMs: number
}

/** A participant's line for one pushed update. */
export function participantLogLine (p: ParticipantRound): string {
  return `run ${p.runId} round ${p.round} client #${p.clientIndex}: ${p.numExamples} examples, local loss ${p.loss.toFixed(4)}, ` +
    `pulled ${mb(p.bytesDown)}, pushed ${mb(p.bytesUp)}, trained ${(p.trainMs / 1000).toFixed(2)} s`
}
