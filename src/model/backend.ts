/**
 * Run-time choice of the TensorFlow.js backend.
 *
 * `auto` tries `tensorflow` (the optional `@tensorflow/tfjs-node` native
 * binding), then `wasm` (`@tensorflow/tfjs-backend-wasm`, its `.wasm` files
 * read from the package's `dist` folder on disk), then the pure-JS `cpu`
 * backend. The environment variable `EDGE_MESH_BACKEND` forces one when the
 * caller asks for `auto`; a forced backend that cannot load is an error.
 *
 * TF.js has one engine per process, so the first successful choice holds for
 * the whole process: later `auto` calls return it, and asking for a different
 * backend afterwards is an `InvalidConfigError`.
 */
import { createRequire } from 'node:module'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { logger } from '@libp2p/logger'
import { InvalidConfigError } from '../errors.js'
import { BACKEND_CHAIN, BACKEND_ENV_VAR } from './constants.js'
import type { BackendName } from './types.js'
import type { Logger } from '@libp2p/interface'

/** What the caller may ask for. */
export type BackendChoice = 'auto' | BackendName

let active: Promise<BackendName> | undefined
let activeName: BackendName | undefined

/** True when `value` names a backend edge-mesh knows. */
export function isBackendName (value: string): value is BackendName {
  return (BACKEND_CHAIN as readonly string[]).includes(value)
}

/** The backend chosen by this process so far, if any. */
export function activeBackend (): BackendName | undefined {
  return activeName
}

/**
 * Choose and initialise the TF.js backend. Idempotent: concurrent and later
 * calls share the first choice.
 *
 * @param choice - `auto` (default) honours `EDGE_MESH_BACKEND`, then tries the chain
 * @returns the active backend
 * @throws InvalidConfigError when a forced backend cannot load, the env value is unknown,
 * or a different backend was already chosen
 */
export async function selectBackend (choice: BackendChoice = 'auto', log: Logger = logger('edge-mesh:model:backend')): Promise<BackendName> {
  const wanted = resolveChoice(choice)
  if (active == null) {
    active = initialise(wanted, log)
    active.then((name) => { activeName = name }, () => { active = undefined })
  }
  const name = await active
  if (wanted !== 'auto' && wanted !== name) {
    throw new InvalidConfigError(`TF.js backend is already "${name}" in this process; cannot switch to "${wanted}"`)
  }
  return name
}

function resolveChoice (choice: BackendChoice): BackendChoice {
  if (choice !== 'auto') {
    if (!isBackendName(choice)) throw new InvalidConfigError(`unknown backend "${String(choice)}"; expected auto, ${BACKEND_CHAIN.join(', ')}`)
    return choice
  }
  const env = process.env[BACKEND_ENV_VAR]?.trim()
  if (env == null || env === '' || env === 'auto') return 'auto'
  if (!isBackendName(env)) {
    throw new InvalidConfigError(`${BACKEND_ENV_VAR}="${env}" is not a backend; expected ${BACKEND_CHAIN.join(', ')}`)
  }
  return env
}

async function initialise (choice: BackendChoice, log: Logger): Promise<BackendName> {
  // Production mode silences TF.js console notices and skips debug-only checks.
  tf.enableProdMode()
  const candidates = choice === 'auto' ? BACKEND_CHAIN : [choice]
  const failures: string[] = []
  for (const name of candidates) {
    try {
      await withoutNewProcessHandlers(async () => {
        await LOADERS[name]()
        if (!(await tf.setBackend(name))) throw new Error('tf.setBackend returned false')
        await tf.ready()
      })
      await smokeTest()
      log('using TF.js backend %s', name)
      return name
    } catch (err: any) {
      log('backend %s unavailable: %s', name, err?.message)
      failures.push(`${name}: ${String(err?.message ?? err)}`)
    }
  }
  const what = choice === 'auto' ? 'no TF.js backend could be loaded' : `the requested TF.js backend "${choice}" cannot be loaded`
  throw new InvalidConfigError(`${what} (${failures.join('; ')})`)
}

const LOADERS: Record<BackendName, () => Promise<void>> = {
  tensorflow: async () => {
    // A variable specifier keeps TypeScript from requiring the optional package's types.
    const specifier = '@tensorflow/tfjs-node'
    await import(specifier)
  },
  wasm: async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm')
    wasm.setWasmPaths(wasmDistDir() + path.sep)
  },
  cpu: async () => {}
}

const PROCESS_EVENTS = ['uncaughtException', 'unhandledRejection'] as const

/**
 * Run `fn` and then remove the `uncaughtException` / `unhandledRejection`
 * listeners it added to `process`. The wasm backend's Emscripten module adds
 * two that rethrow whatever they receive; an error rethrown from inside a
 * process handler makes Node exit with code 7, so any uncaught error of the
 * host application would be reported from inside the wasm backend. Without
 * them Node's own behaviour (print the error, exit 1) and the application's
 * own handlers apply.
 */
async function withoutNewProcessHandlers (fn: () => Promise<void>): Promise<void> {
  const emitter: NodeJS.EventEmitter = process
  const before = new Map(PROCESS_EVENTS.map(event => [event, new Set(emitter.listeners(event))]))
  try {
    await fn()
  } finally {
    for (const event of PROCESS_EVENTS) {
      for (const listener of emitter.listeners(event)) {
        if (!(before.get(event)?.has(listener) ?? false)) emitter.removeListener(event, listener as (...args: any[]) => void)
      }
    }
  }
}

/** The folder holding the `.wasm` binaries of `@tensorflow/tfjs-backend-wasm`. */
function wasmDistDir (): string {
  const require = createRequire(import.meta.url)
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))
}

/** A small matmul proves the backend computes (the wasm binary can register yet fail to run). */
async function smokeTest (): Promise<void> {
  const product = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[1], [1]])))
  const values = await product.data()
  product.dispose()
  if (values[0] !== 3 || values[1] !== 7) throw new Error(`smoke test computed [${Array.from(values).join(', ')}]`)
}
