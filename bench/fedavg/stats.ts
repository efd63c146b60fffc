/** Small pure helpers of the federated averaging benchmark. */

export { median, percentile, round2, round3 } from '../shared/stats.js'

/** Wait `ms` (only for polling a process or an HTTP endpoint, never to order network events). */
export async function delay (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}
