/**
 * The hedge budget as a pure token bucket: every request deposits `ratio` of a
 * token (at most `burst` tokens are kept), every hedge spends one. The bucket
 * starts empty, so after any number of requests `n` the hedges sent are at most
 * `floor(ratio * n)`: with the default ratio, hedges never exceed 5 % of requests.
 * Tokens are counted in millionths so repeated deposits do not drift.
 */
import { DEFAULT_HEDGE_BURST, DEFAULT_HEDGE_RATIO } from './scheduler-constants.js'

const SCALE = 1_000_000

export interface HedgeBudget {
  /** Saved tokens, in millionths of a token. */
  readonly micros: number
}

export interface HedgeBudgetConfig {
  /** Tokens deposited per request. @default 0.05 */
  ratio: number
  /** Most tokens kept. @default 10 */
  burst: number
}

export const DEFAULT_HEDGE_BUDGET_CONFIG: Readonly<HedgeBudgetConfig> = Object.freeze({
  ratio: DEFAULT_HEDGE_RATIO,
  burst: DEFAULT_HEDGE_BURST
})

export function emptyHedgeBudget (): HedgeBudget {
  return { micros: 0 }
}

/** A request arrived: deposit `ratio` of a token. */
export function depositHedge (budget: HedgeBudget, config: HedgeBudgetConfig = DEFAULT_HEDGE_BUDGET_CONFIG): HedgeBudget {
  const micros = Math.min(Math.round(config.burst * SCALE), budget.micros + Math.round(config.ratio * SCALE))
  return { micros }
}

/** Try to spend one token for a hedge; `granted` says whether the hedge may be sent. */
export function withdrawHedge (budget: HedgeBudget): { budget: HedgeBudget, granted: boolean } {
  if (budget.micros < SCALE) return { budget, granted: false }
  return { budget: { micros: budget.micros - SCALE }, granted: true }
}

