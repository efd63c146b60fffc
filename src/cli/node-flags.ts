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
import type { FlagSpec } from './args.js'
import type { EdgeMeshConfig } from '../node/config.js'

export const NODE_FLAGS: FlagSpec = {
  listen: { type: 'string', multiple: true },
  bootstrap: { type: 'string', multiple: true },
  mdns: { type: 'boolean' },
  'api-host': { type: 'string' },
  'api-port': { type: 'string' },
  'data-dir': { type: 'string' },
  name: { type: 'string' },
  preset: { type: 'string' },
  'report-interval': { type: 'string' },
  'max-connections': { type: 'string' },
  model: { type: 'string', multiple: true },
  capacity: { type: 'string' },
  'max-queue': { type: 'string' },
  'simulate-slowdown': { type: 'string' },
  'simulate-service-ms': { type: 'string' },
  batching: { type: 'boolean' },
  data: { type: 'string', multiple: true },
  trust: { type: 'string', multiple: true },
  'trust-file': { type: 'string' },
  'trust-mesh': { type: 'boolean' },
  byzantine: { type: 'string' },
  'fed-max-epochs': { type: 'string' },
  'fed-max-rounds': { type: 'string' },
  'fed-max-deadline': { type: 'string' },
  'fed-max-runs': { type: 'string' },
  'fed-max-participating-runs': { type: 'string' },
  'fed-max-examples': { type: 'string' },
  'fed-max-weight-bytes': { type: 'string' },
  'fed-max-feature-examples': { type: 'string' },
  'log-format': { type: 'string' },
  'mesh-key': { type: 'string' },
  'allow-peers': { type: 'string' },
  'dial-ranges': { type: 'string', multiple: true },
  'model-memory': { type: 'string' },
  'max-models': { type: 'string' },
  'spot-check': { type: 'string' },
  'offload-to': { type: 'string' },
  'api-token': { type: 'string' },
  'api-token-file': { type: 'string' },
  'api-allow-host': { type: 'string', multiple: true },
  'api-max-body-bytes-in-flight': { type: 'string' },
  'max-connections-per-host': { type: 'string' },
  'reserved-connections': { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' }
}

export const NODE_FLAGS_HELP = `Node options:
  --listen <multiaddr>        libp2p listen address, repeatable (edge: /ip4/0.0.0.0/tcp/0, seed: /ip4/0.0.0.0/tcp/4010)
  --bootstrap <multiaddr>     join through this node (a seed's address with /p2p/<id>), repeatable
  --no-mdns                   do not discover peers on the LAN by mDNS (seeds: off by default)
  --api-host <host>           control API interface (127.0.0.1)
  --api-port <n>              control API port, 0 for a free one (edge 7373, seed 7374)
  --data-dir <dir>            identity key, known peers, model cache, checkpoints, locked while the node runs
                              (~/.local/share/edge-mesh/<name>, or $XDG_DATA_HOME/edge-mesh/<name>)
  --name <label>              name shown in status and gossip (edge / seed)
  --preset lan|local-test     timing preset; local-test uses short intervals (lan)
  --report-interval <ms>      load report interval (lan 1000, local-test 250)
  --max-connections <n>       most connections to keep (128)
  --max-connections-per-host <n>  inbound connections from one IP address, IPv6 /64 (lan 16, local-test 10000)
  --reserved-connections <n>  slots kept for hosts with no connection yet (lan 8, local-test 0)
  --model <dir|name>          TF.js layers or graph model folder to serve, or a packaged model:
                              human:movenet-lightning, human:blazeface, nsfwjs:mobilenet_v2, edge-mesh:mnist-mlp; repeatable
  --capacity <n>              concurrent inference jobs (4)
  --max-queue <n>             queued requests before answering busy (32)
  --simulate-slowdown <x>     stretch service time by x to emulate a slower device (1)
  --simulate-service-ms <ms>  fixed service time per request, to emulate a slower device (0: off)
  --no-batching               turn off dynamic micro-batching of concurrent requests (on)
  --data [<name>=]<spec>      a local dataset, repeatable; a spec is a directory, mnist:<k>/<n>[:iid|:noniid|:dirichlet=<a>][:seed=<s>],
                              or a comma-separated list of them (one virtual client each). Without a name it is
                              "default", the data this node trains on; run specs refer to datasets by name
  --trust <peer id>           trust this peer to coordinate runs this node trains for, and to START/CANCEL runs here; repeatable
  --trust-file <file>         trusted peer ids, one per line (# comments)
  --trust-mesh                with --mesh-key: trust every member of the private mesh
                              (bootstrap peers pinned by /p2p/<id> are always trusted; see docs/security.md)
  --fed-max-epochs <n>        most local epochs a run may ask (50)
  --fed-max-rounds <n>        most rounds per run (1000)
  --fed-max-deadline <ms>     longest job / round deadline (600000)
  --fed-max-runs <n>          most runs coordinated at once (4)
  --fed-max-participating-runs <n>  most runs trained for at once (2)
  --fed-max-examples <n>      largest example count a participant may declare (1000000)
  --fed-max-weight-bytes <n>  largest federated weight record (50331648)
  --fed-max-feature-examples <n>  most examples per client a head run may ask features of (1024)
  --byzantine <attack>        EXPERIMENT ONLY: this node poisons its own updates (signflip|scale[:scale=<x>]|noise[:noise=<s>]|labelflip|nan|wrong-shape)
  --mesh-key <file>           private mesh: only nodes with this key (edge-mesh keygen) can connect
  --allow-peers <file>        only these peer ids (one per line) may connect
  --dial-ranges <cidr>        only dial gossiped addresses in these blocks, repeatable (any)
  --model-memory <size>       most bytes of models loaded at once, e.g. 512MiB, 2GiB (512MiB)
  --max-models <n>            most models loaded at once; idle models fetched for peers are unloaded first (8)
  --spot-check <rate>         share of remote inference results re-run and compared; a liar is banned (0.01)
  --offload-to any|trusted    offload inference to any peer or only to --trust peers (any)
  --api-token <token>         bearer token the control API requires (visible in ps: prefer the file or
                              EDGE_MESH_API_TOKEN); generated into <data-dir>/api.token if --api-host is not loopback
  --api-token-file <file>     read the control API token from this file
  --api-allow-host <name>     extra host name the control API answers to, repeatable (localhost, loopback, bound address)
  --api-max-body-bytes-in-flight <n>  request-body bytes the API holds at once; more is refused with 503 (33554432)
  --log-format text|json      output format (text)
  --config <file.json>        read settings from a JSON file (keys as in README "Configuration")
Environment: EDGE_MESH_<SETTING> for each setting (EDGE_MESH_API_PORT, EDGE_MESH_BOOTSTRAP=a,b, EDGE_MESH_MDNS=false, ...)`

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
