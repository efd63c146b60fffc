/**
 * CPU utilisation of this node's process over the last sampling period, 0..1
 * of the machine (process CPU time divided by wall time times the number of
 * cores). Process CPU, not system CPU, so several nodes on one laptop report
 * their own work rather than the machine's.
 */
import { availableParallelism } from 'node:os'

export class CpuSampler {
  private lastUsage = process.cpuUsage()
  private lastTime = process.hrtime.bigint()
  private readonly cores = Math.max(1, availableParallelism())

  /** Utilisation since the previous call. */
  sample (): number {
    const usage = process.cpuUsage()
    const now = process.hrtime.bigint()
    const cpuMicros = (usage.user - this.lastUsage.user) + (usage.system - this.lastUsage.system)
    const wallMicros = Number(now - this.lastTime) / 1000
    this.lastUsage = usage
    this.lastTime = now
    if (wallMicros <= 0) return 0
    return Math.min(1, Math.max(0, cpuMicros / (wallMicros * this.cores)))
  }
}
