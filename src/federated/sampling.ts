/**
 * Who takes part in each round when the user did not say: McMahan et al.'s
 * C = 0.1 suits a hundred clients, but on a small mesh it trains 2 of 3
 * nodes per round with nothing explaining why (issue #13). So the default
 * fraction is 1 (every client, every round) while at most
 * `SMALL_MESH_MAX_CLIENTS` clients are available at the run's start, and
 * `DEFAULT_FRACTION` beyond; with fraction 1 the fewest updates a round needs
 * defaults to the number sampled (per attempt: a client that left the mesh is
 * not sampled again, so a retry can still succeed). The plan says why in one line, which the
 * run logs and the CLI prints at the run's start.
 */
import { DEFAULT_FRACTION, DEFAULT_MIN_PARTICIPANTS, SMALL_MESH_MAX_CLIENTS } from './constants.js'

/** The resolved sampling of a run. */
export interface SamplingPlan {
  /** Fraction C of the clients asked per round. */
  fraction: number
  /** Fewest updates a round aggregates. */
  minParticipants: number
  /** Clients available when the plan was made. */
  clients: number
  /** The fewest updates are every sampled client of each attempt (fraction 1, min participants unset). */
  everySampled: boolean
  /** Clients per round with these settings: `max(minParticipants, ceil(C * K))`, capped at K. */
  sampleSize: number
  /** Why, in one line, e.g. `fraction 1 (default: ...), min participants 4 (...)`. */
  reason: string
}

/** Clients per round: `max(minParticipants, ceil(C * K))`, capped at K. */
export function roundSampleSize (clients: number, fraction: number, minParticipants: number): number {
  return Math.min(clients, Math.max(minParticipants, Math.ceil(fraction * clients)))
}

/** Resolve `fraction` and `minParticipants` (either may be unset) for `clients` available clients. */
export function planSampling (clients: number, fraction?: number, minParticipants?: number): SamplingPlan {
  const small = clients <= SMALL_MESH_MAX_CLIENTS
  const c = fraction ?? (small ? 1 : DEFAULT_FRACTION)
  const cWhy = fraction !== undefined
    ? 'as asked'
    : small
      ? `default: every client while at most ${SMALL_MESH_MAX_CLIENTS} are available; ${clients} are`
      : `default for more than ${SMALL_MESH_MAX_CLIENTS} clients; ${clients} are`
  const all = roundSampleSize(clients, c, 1)
  const min = minParticipants ?? (c === 1 ? Math.max(1, all) : DEFAULT_MIN_PARTICIPANTS)
  const minWhy = minParticipants !== undefined ? 'as asked' : c === 1 ? 'default with fraction 1: every sampled client' : 'default'
  const sampleSize = roundSampleSize(clients, c, min)
  return {
    fraction: c,
    minParticipants: min,
    everySampled: c === 1 && minParticipants === undefined,
    clients,
    sampleSize,
    reason: `${sampleSize} of ${clients} clients per round: fraction ${c} (${cWhy}), min participants ${min} (${minWhy})`
  }
}
