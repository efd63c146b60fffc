/**
 * The settings of a node from three sources, strongest first: command-line
 * flags, environment variables (`EDGE_MESH_*`), a JSON config file
 * (`--config` or `EDGE_MESH_CONFIG`). `resolveConfig` then fills defaults and
 * validates everything in one place.
 */
import { readFileSync } from 'node:fs'
import { InvalidConfigError } from '../errors.js'
import { resolveConfig } from '../node/config.js'
import { intFlag, numberFlag } from './args.js'
import type { EdgeMeshConfig } from '../node/config.js'

export { NODE_FLAGS, NODE_FLAGS_HELP } from './node-flag-specs.js'

type Partial_ = Partial<Record<keyof EdgeMeshConfig, unknown>>

const ENV_KEYS: Array<[string, keyof EdgeMeshConfig, 'string' | 'list' | 'bool']> = [
  ['EDGE_MESH_ROLE', 'role', 'string'], ['EDGE_MESH_NAME', 'name', 'string'], ['EDGE_MESH_LISTEN', 'listen', 'list'],
  ['EDGE_MESH_BOOTSTRAP', 'bootstrap', 'list'], ['EDGE_MESH_MDNS', 'mdns', 'bool'], ['EDGE_MESH_API_HOST', 'apiHost', 'string'],
  ['EDGE_MESH_API_PORT', 'apiPort', 'string'], ['EDGE_MESH_DATA_DIR', 'dataDir', 'string'], ['EDGE_MESH_PRESET', 'preset', 'string'],
  ['EDGE_MESH_REPORT_INTERVAL', 'reportIntervalMs', 'string'], ['EDGE_MESH_MAX_CONNECTIONS', 'maxConnections', 'string'],
  ['EDGE_MESH_MODELS', 'models', 'list'], ['EDGE_MESH_CAPACITY', 'capacity', 'string'], ['EDGE_MESH_MAX_QUEUE', 'maxQueue', 'string'],
  ['EDGE_MESH_SIMULATE_SLOWDOWN', 'simulateSlowdown', 'string'], ['EDGE_MESH_SIMULATE_SERVICE_MS', 'simulateServiceMs', 'string'], ['EDGE_MESH_BATCHING', 'batching', 'bool'], ['EDGE_MESH_DATA', 'data', 'string'], ['EDGE_MESH_LOG_FORMAT', 'logFormat', 'string'],
  ['EDGE_MESH_MESH_KEY', 'meshKey', 'string'], ['EDGE_MESH_ALLOW_PEERS', 'allowPeers', 'string'], ['EDGE_MESH_DIAL_RANGES', 'dialRanges', 'list'],
  ['EDGE_MESH_MODEL_MEMORY', 'modelMemory', 'string'], ['EDGE_MESH_MAX_MODELS', 'maxModels', 'string'], ['EDGE_MESH_SPOT_CHECK', 'spotCheck', 'string'],
  ['EDGE_MESH_OFFLOAD_TO', 'offloadTo', 'string'],
  ['EDGE_MESH_API_TOKEN', 'apiToken', 'string'], ['EDGE_MESH_API_TOKEN_FILE', 'apiTokenFile', 'string'], ['EDGE_MESH_API_ALLOW_HOSTS', 'apiAllowHosts', 'list'],
  ['EDGE_MESH_API_MAX_BODY_BYTES_IN_FLIGHT', 'apiMaxBodyBytesInFlight', 'string'], ['EDGE_MESH_MAX_CONNECTIONS_PER_HOST', 'maxConnectionsPerHost', 'string'],
  ['EDGE_MESH_RESERVED_CONNECTIONS', 'reservedConnections', 'string'],
  ['EDGE_MESH_TRUST', 'trust', 'list'], ['EDGE_MESH_TRUST_FILE', 'trustFile', 'string'], ['EDGE_MESH_TRUST_MESH', 'trustMesh', 'bool']
]

export function fromEnv (env: NodeJS.ProcessEnv): Partial_ {
  const out: Partial_ = {}
  for (const [variable, key, kind] of ENV_KEYS) {
    const raw = env[variable]
    if (raw == null || raw === '') continue
    if (kind === 'list') out[key] = raw.split(',').map(s => s.trim()).filter(s => s !== '')
    else if (kind === 'bool') {
      if (!['true', 'false', '1', '0'].includes(raw)) throw new InvalidConfigError(`${variable}: expected true or false, got "${raw}"`)
      out[key] = raw === 'true' || raw === '1'
    } else out[key] = raw
  }
  return out
}

export function fromFile (path: string | undefined): Partial_ {
  if (path == null) return {}
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err: any) {
    throw new InvalidConfigError(`config file ${path}: ${err?.code === 'ENOENT' ? 'not found' : err?.message}`)
  }
  try {
    const parsed = JSON.parse(text)
    if (parsed == null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object')
    return parsed
  } catch (err: any) {
    throw new InvalidConfigError(`config file ${path}: not a JSON object (${err?.message})`)
  }
}

export function fromFlags (values: Record<string, any>): Partial_ {
  const out: Partial_ = {}
  const set = (key: keyof EdgeMeshConfig, value: unknown): void => { if (value !== undefined) out[key] = value }
  set('listen', values.listen)
  set('bootstrap', values.bootstrap)
  set('mdns', values.mdns)
  set('apiHost', values['api-host'])
  set('apiPort', intFlag('api-port', values['api-port'], 0, 65535))
  set('dataDir', values['data-dir'])
  set('name', values.name)
  set('preset', values.preset)
  set('reportIntervalMs', intFlag('report-interval', values['report-interval'], 50, 60_000))
  set('maxConnections', intFlag('max-connections', values['max-connections'], 1, 10_000))
  set('models', values.model)
  set('capacity', intFlag('capacity', values.capacity, 1, 1024))
  set('maxQueue', intFlag('max-queue', values['max-queue'], 0, 100_000))
  set('batching', values.batching)
  set('simulateSlowdown', numberFlag('simulate-slowdown', values['simulate-slowdown'], 1, 1000))
  set('simulateServiceMs', numberFlag('simulate-service-ms', values['simulate-service-ms'], 0, 60_000))
  set('data', values.data)
  set('trust', values.trust)
  set('trustFile', values['trust-file'])
  set('trustMesh', values['trust-mesh'])
  set('byzantine', values.byzantine)
  set('fedMaxEpochs', intFlag('fed-max-epochs', values['fed-max-epochs'], 1, 1_000_000))
  set('fedMaxRounds', intFlag('fed-max-rounds', values['fed-max-rounds'], 1, 10_000_000))
  set('fedMaxDeadlineMs', intFlag('fed-max-deadline', values['fed-max-deadline'], 100, 30 * 24 * 3600 * 1000))
  set('fedMaxRuns', intFlag('fed-max-runs', values['fed-max-runs'], 1, 1024))
  set('fedMaxParticipatingRuns', intFlag('fed-max-participating-runs', values['fed-max-participating-runs'], 1, 1024))
  set('fedMaxExamples', intFlag('fed-max-examples', values['fed-max-examples'], 1, 0xFFFFFFFF))
  set('fedMaxWeightBytes', intFlag('fed-max-weight-bytes', values['fed-max-weight-bytes'], 1024, 2 ** 31))
  set('fedMaxFeatureExamples', intFlag('fed-max-feature-examples', values['fed-max-feature-examples'], 1, 0xFFFFFFFF))
  set('logFormat', values['log-format'])
  set('meshKey', values['mesh-key'])
  set('allowPeers', values['allow-peers'])
  set('dialRanges', values['dial-ranges'])
  set('modelMemory', values['model-memory'])
  set('maxModels', intFlag('max-models', values['max-models'], 1, 10_000))
  set('spotCheck', numberFlag('spot-check', values['spot-check'], 0, 1))
  set('offloadTo', values['offload-to'])
  set('apiToken', values['api-token'])
  set('apiTokenFile', values['api-token-file'])
  set('apiAllowHosts', values['api-allow-host'])
  set('apiMaxBodyBytesInFlight', intFlag('api-max-body-bytes-in-flight', values['api-max-body-bytes-in-flight'], 1024, 2 ** 40))
  set('maxConnectionsPerHost', intFlag('max-connections-per-host', values['max-connections-per-host'], 1, 10_000))
  set('reservedConnections', intFlag('reserved-connections', values['reserved-connections'], 0, 10_000))
  return out
}

/** Merge file < env < flags and resolve. */
export function configFromSources (values: Record<string, any>, env: NodeJS.ProcessEnv, role: 'edge' | 'seed'): EdgeMeshConfig {
  const file = fromFile(values.config ?? env.EDGE_MESH_CONFIG)
  return resolveConfig({ ...file, ...fromEnv(env), ...fromFlags(values), role })
}
