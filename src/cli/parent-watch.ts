/**
 * Children die with their parent. A process started by `startNodeProcess`
 * (the demo's nodes, the experiment's, the tests') gets a pipe from its parent
 * as stdin and `EDGE_MESH_EXIT_WITH_STDIN=1`; the kernel closes that pipe when
 * the parent dies for any reason, `kill -9` included, so the child sees
 * end-of-file on stdin and stops. Nothing is ever written to the pipe.
 */

/** Set to `1` in a child's environment: the child stops when its stdin closes. */
export const EXIT_WITH_STDIN_ENV = 'EDGE_MESH_EXIT_WITH_STDIN'

/**
 * When `env` asks for it, call `onParentGone` once when stdin ends or fails.
 * Returns a function that stops watching (and releases stdin, so the process can exit).
 */
export function watchParentPipe (onParentGone: () => void, env: NodeJS.ProcessEnv = process.env): () => void {
  if (env[EXIT_WITH_STDIN_ENV] !== '1') return () => {}
  const stdin = process.stdin
  let done = false
  const gone = (): void => {
    if (done) return
    done = true
    onParentGone()
  }
  stdin.on('end', gone)
  stdin.on('close', gone)
  stdin.on('error', gone)
  stdin.on('data', () => {})
  stdin.resume()
  return () => {
    done = true
    stdin.off('end', gone)
    stdin.off('close', gone)
    stdin.off('error', gone)
    stdin.destroy()
  }
}
