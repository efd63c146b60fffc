/**
 * Counts of federated requests a node refused, by reason, served in /metrics
 * as `edge_mesh_federated_refusals_total{reason=...}`. Reasons are a fixed
 * vocabulary (docs/metrics.md): `untrusted_hello`, `untrusted_announce`,
 * `untrusted_start`, `untrusted_cancel`, `untrusted_secagg`, `secagg_sessions`, and the bounds of `bounds.ts`
 * (`epochs`, `rounds`, `deadline`, `coordinated_runs`, `participating_runs`,
 * `examples`).
 */
export class Refusals {
  private readonly counts = new Map<string, number>()

  /** Count one refusal. */
  add (reason: string): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1)
  }

  /** Every reason counted so far and its count. */
  snapshot (): Record<string, number> {
    return Object.fromEntries(this.counts)
  }
}
