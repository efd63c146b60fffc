/**
 * Ctrl-C while `edge-mesh train` follows a run. The run lives on the mesh,
 * not in this process, so leaving silently would leave it running with no
 * word about it (issue #13). `stop` (the default when a person is at the
 * terminal) cancels the run mesh-wide through `DELETE /federated/runs/:id`,
 * says so and keeps following until the run reports `cancelled`; `detach`
 * (the default otherwise) leaves it running and prints the command that
 * stops it. A second Ctrl-C exits at once.
 */
import { callApi } from '../api-client.js'
import { UsageError } from '../errors.js'
import { printable } from '../output.js'

/** What the first Ctrl-C does. */
export type InterruptMode = 'stop' | 'detach'

/** Exit code after Ctrl-C (128 + SIGINT), as shells report it. */
export const INTERRUPTED_EXIT_CODE = 130

/** `--on-interrupt`: `stop` or `detach`; unset, `stop` on a terminal and `detach` otherwise. */
export function interruptModeFlag (value: string | undefined, interactive = process.stdin.isTTY === true && process.stdout.isTTY === true): InterruptMode {
  if (value === undefined) return interactive ? 'stop' : 'detach'
  if (value === 'stop' || value === 'detach') return value
  throw new UsageError(`--on-interrupt must be stop or detach, got "${value}"`)
}

export interface InterruptInit {
  api: string
  runId: string
  mode: InterruptMode
  /** True when the user passed --api (repeated in the printed stop command). */
  apiGiven: boolean
  write(line: string): void
}

/** The command that stops a run from another shell. */
export function stopCommand (runId: string, api: string, apiGiven: boolean): string {
  return `edge-mesh train stop ${runId}${apiGiven ? ` --api ${api}` : ''}`
}

/**
 * Handle SIGINT while following a run. `signal` aborts when the command
 * should stop following (detached, or the cancel request failed).
 */
export function onInterrupts (init: InterruptInit): { signal: AbortSignal, dispose: () => void } {
  const controller = new AbortController()
  const id = printable(init.runId)
  let count = 0
  const onSignal = (): void => {
    count++
    if (count > 1) process.exit(INTERRUPTED_EXIT_CODE)
    if (init.mode === 'detach') {
      init.write(`run ${id} goes on on the mesh; stop it with: ${printable(stopCommand(init.runId, init.api, init.apiGiven))}`)
      controller.abort()
      return
    }
    init.write(`stopping run ${id} mesh-wide (Ctrl-C again to exit at once)`)
    callApi(init.api, `/federated/runs/${encodeURIComponent(init.runId)}`, { method: 'DELETE' }).then(() => {
      init.write(`run ${id}: cancel requested from its coordinator; waiting for it to stop`)
    }, (err: any) => {
      init.write(`could not stop run ${id}: ${printable(`${String(err?.name)}: ${String(err?.message)}`)}; stop it with: ${printable(stopCommand(init.runId, init.api, init.apiGiven))}`)
      controller.abort()
    })
  }
  process.on('SIGINT', onSignal)
  return { signal: controller.signal, dispose: () => { process.removeListener('SIGINT', onSignal) } }
}
