/**
 * A node's configuration: one typed record with a documented default for
 * every field, built from a partial input (CLI flags, environment, config file
 * merged by the CLI) and validated in one place. Every problem is reported as
 * an InvalidConfigError (or InvalidMultiaddrError) naming the setting.
 */
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidConfigError, InvalidMultiaddrError } from '../errors.js'
import { DEFAULT_MAX_MODELS, DEFAULT_MODEL_MEMORY_BYTES } from '../model/constants.js'
import { DEFAULT_OFFLOAD_TO, DEFAULT_SPOT_CHECK_RATE } from '../offload/constants.js'
import {
  DEFAULT_MAX_COORDINATED_RUNS, DEFAULT_MAX_DEADLINE_MS, DEFAULT_MAX_EPOCHS, DEFAULT_MAX_EXAMPLES,
  DEFAULT_MAX_FEATURE_EXAMPLES, DEFAULT_MAX_PARTICIPATING_RUNS, DEFAULT_MAX_ROUNDS
} from '../federated/constants.js'
import { DEFAULT_MAX_RECORD_BYTES } from '../federated/mesh/protocol/constants.js'
import { parseByzantine } from '../federated/mesh/byzantine.js'
import { checkPeerIds } from '../federated/mesh/trust.js'
import {
  DEFAULT_API_HOST, DEFAULT_API_PORT, DEFAULT_EDGE_LISTEN, DEFAULT_MAX_CONNECTIONS,
  DEFAULT_SEED_API_PORT, DEFAULT_SEED_LISTEN
} from './constants.js'
import { DEFAULT_MAX_BODY_BYTES_IN_FLIGHT } from '../api/constants.js'
import { defaultDataRoot } from './data-dir.js'
import { DEFAULT_BATCHING, DEFAULT_CAPACITY, DEFAULT_MAX_QUEUE, DEFAULT_SIMULATE_SERVICE_MS, DEFAULT_SIMULATE_SLOWDOWN } from '../offload/constants.js'
import { PRESETS } from './presets.js'
import type { PresetName } from './presets.js'
import type { NodeRole } from '../gossip/types.js'

export interface EdgeMeshConfig {
  /** `edge` (a device) or `seed` (always-on bootstrap, relay and coordinator). @default 'edge' */
  role: NodeRole
  /** Human label shown in status and gossip. @default 'edge' or 'seed' */
  name: string
  /** libp2p listen multiaddrs. @default ['/ip4/0.0.0.0/tcp/0'] (seed: tcp/4010) */
  listen: string[]
  /** Multiaddrs (with /p2p/<id>) of seeds or other nodes to join through. @default [] */
  bootstrap: string[]
  /** Discover peers on the LAN by mDNS. @default true for edges, false for seeds */
  mdns: boolean
  /** Control API interface. @default '127.0.0.1' */
  apiHost: string
  /** Control API port, 0 for a free one. @default 7373 (seed: 7374) */
  apiPort: number
  /** Where the identity key, known peers, model cache and checkpoints live. @default '<user data dir>/edge-mesh/<name>' (`$XDG_DATA_HOME` or `~/.local/share` on Linux; see `data-dir.ts`) */
  dataDir: string
  /** Named timing preset. @default 'lan' */
  preset: PresetName
  /** Load report interval, ms. @default the preset's (lan: 1000) */
  reportIntervalMs: number
  /** Most connections to keep. @default 128 */
  maxConnections: number
  /** TF.js model directories to load and serve. @default [] */
  models: string[]
  /** Concurrent inference jobs (`predict` calls; a micro-batch is one) this node runs. @default 4 (`DEFAULT_CAPACITY`) */
  capacity: number
  /** Inference requests waiting beyond `capacity` before the node answers busy. @default 32 (`DEFAULT_MAX_QUEUE`) */
  maxQueue: number
  /** Dynamic micro-batching of concurrent requests for the same model. @default true */
  batching: boolean
  /** Stretch this node's service time by this factor to emulate a slower device. @default 1 */
  simulateSlowdown: number
  /** Fixed service time per request that emulates a slower device, ms (0: off). @default 0 */
  simulateServiceMs: number
  /**
   * Local datasets for federated runs (see `src/federated/mesh/data-spec.ts`), each
   * `<name>=<spec>` or a bare `<spec>` (named `default`, the data the node
   * trains on); a spec is a directory or `mnist:<shard>/<of>[:iid|:noniid|:dirichlet=<a>][:seed=<s>]`,
   * comma-separated for several virtual clients. Run specs refer to them by name. @default none
   */
  data?: string[]
  /** Pre-shared mesh key file (`edge-mesh keygen`): only holders of the same key can connect. @default none (open mesh) */
  meshKey?: string
  /** File of allowed peer ids, one per line: others are refused in the connection gater. @default none (everyone) */
  allowPeers?: string
  /** CIDR blocks of addresses this node dials because a load report named them. @default [] (any) */
  dialRanges: string[]
  /** Peer ids trusted to coordinate runs this node trains for, and to START/CANCEL runs here. @default [] */
  trust: string[]
  /** File of trusted peer ids, one per line (`#` comments). @default none */
  trustFile?: string
  /** With `meshKey`: trust every member of the private mesh. @default false */
  trustMesh: boolean
  /** Experiment-only byzantine behaviour of this node's own updates (`src/federated/mesh/byzantine.ts`). @default none */
  byzantine?: string
  /** Most local epochs a run or ANNOUNCE may ask. @default 50 */
  fedMaxEpochs: number
  /** Most rounds per run. @default 1000 */
  fedMaxRounds: number
  /** Longest job / round deadline, ms. @default 600000 */
  fedMaxDeadlineMs: number
  /** Most runs coordinated at once. @default 4 */
  fedMaxRuns: number
  /** Most runs trained for at once as a participant. @default 2 */
  fedMaxParticipatingRuns: number
  /** Largest example count a participant may declare. @default 1000000 */
  fedMaxExamples: number
  /** Largest federated weight record accepted, bytes. @default 48 MiB */
  fedMaxWeightBytes: number
  /** Most examples per client whose features a head run may ask this node to compute. @default 1024 */
  fedMaxFeatureExamples: number
  /** Log format of the CLI: human lines or one JSON object per line. @default 'text' */
  logFormat: 'text' | 'json'
  /** Bearer token the control API requires (prefer `apiTokenFile` or EDGE_MESH_API_TOKEN: flags show in `ps`). @default none; generated into `<dataDir>/api.token` when `apiHost` is not loopback */
  apiToken?: string
  /** File holding the control API's token. @default none */
  apiTokenFile?: string
  /** Extra host names the control API answers to (for a DNS name of this machine). @default [] */
  apiAllowHosts: string[]
  /** Request-body bytes the control API holds at once; more is refused with 503. @default 32 MiB */
  apiMaxBodyBytesInFlight: number
  /** Inbound connections (open or being set up) accepted from one IP address (IPv6: one /64). @default the preset's (lan: 16, local-test: 10000) */
  maxConnectionsPerHost: number
  /** Connection slots kept for hosts with no connection yet, so one host cannot fill `maxConnections`. @default the preset's (lan: 8, local-test: 0) */
  reservedConnections: number
  /** Model memory budget: most bytes of models loaded at once (a number or `512MiB`, `1GiB`, ...). @default 512 MiB */
  modelMemory: number
  /** Model memory budget: most models loaded at once. @default 8 */
  maxModels: number
  /** Share of remote inference results re-run locally (or on a second peer) and compared; 0 turns it off. @default 0.01 */
  spotCheck: number
  /** Where inference is offloaded: `any` peer, or only `trusted` ones (see `trust`). @default 'any' */
  offloadTo: 'any' | 'trusted'
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, kb: 1e3, mb: 1e6, gb: 1e9 }

/** Parse a byte size: a number, or text such as `512MiB`, `1.5GiB`, `800MB`. */
export function parseByteSize (setting: string, value: unknown): number {
  const match = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value) : null
  const factor = match == null ? undefined : BYTE_UNITS[match[2].toLowerCase()]
  const n = typeof value === 'number' ? value : match != null && factor != null ? Math.floor(Number(match[1]) * factor) : NaN
  if (!Number.isSafeInteger(n) || n < 1) fail(setting, `expected a size such as 512MiB or 2GiB, got ${JSON.stringify(value)}`)
  return n
}

function fail (setting: string, message: string): never {
  throw new InvalidConfigError(`${setting}: ${message}`)
}

function checkInt (setting: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    fail(setting, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`)
  }
  return n
}

function checkNumber (setting: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) {
    fail(setting, `expected a number from ${min} to ${max}, got ${JSON.stringify(value)}`)
  }
  return n
}

function checkStrings (setting: string, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.some(v => typeof v !== 'string')) fail(setting, 'expected a list of strings')
  return list
}

function checkMultiaddrs (setting: string, value: unknown, needPeerId: boolean): string[] {
  return checkStrings(setting, value).map(text => {
    let ma
    try {
      ma = multiaddr(text)
    } catch {
      throw new InvalidMultiaddrError(`${setting}: "${text}" is not a valid multiaddr (example: /ip4/192.168.1.10/tcp/4010/p2p/12D3KooW...)`)
    }
    if (needPeerId && ma.getComponents().find(c => c.name === 'p2p') == null) {
      throw new InvalidMultiaddrError(`${setting}: "${text}" has no /p2p/<peer id> part; copy the full address a seed prints`)
    }
    return ma.toString()
  })
}

const KNOWN_KEYS = new Set<string>([
  'role', 'name', 'listen', 'bootstrap', 'mdns', 'apiHost', 'apiPort', 'dataDir', 'preset', 'reportIntervalMs',
  'maxConnections', 'models', 'capacity', 'maxQueue', 'simulateSlowdown', 'simulateServiceMs', 'data', 'logFormat',
  'meshKey', 'allowPeers', 'dialRanges', 'batching',
  'apiToken', 'apiTokenFile', 'apiAllowHosts', 'apiMaxBodyBytesInFlight', 'maxConnectionsPerHost', 'reservedConnections',
  'trust', 'trustFile', 'trustMesh', 'byzantine', 'fedMaxEpochs', 'fedMaxRounds', 'fedMaxDeadlineMs', 'fedMaxRuns',
  'fedMaxParticipatingRuns', 'fedMaxExamples', 'fedMaxWeightBytes', 'fedMaxFeatureExamples', 'modelMemory', 'maxModels', 'spotCheck', 'offloadTo'
])

/** Build a full, validated configuration from a partial one. */
export function resolveConfig (input: Partial<Record<keyof EdgeMeshConfig, unknown>> = {}): EdgeMeshConfig {
  for (const key of Object.keys(input)) {
    if (!KNOWN_KEYS.has(key)) fail(key, `unknown setting (known: ${[...KNOWN_KEYS].join(', ')})`)
  }
  const role = input.role ?? 'edge'
  if (role !== 'edge' && role !== 'seed') fail('role', `expected "edge" or "seed", got ${JSON.stringify(role)}`)
  const preset = input.preset ?? 'lan'
  if (typeof preset !== 'string' || !(preset in PRESETS)) fail('preset', `expected one of ${Object.keys(PRESETS).join(', ')}, got ${JSON.stringify(preset)}`)
  const timings = PRESETS[preset as PresetName]
  const name = input.name ?? role
  if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > 64) fail('name', 'expected a label of 1 to 64 bytes')
  const logFormat = input.logFormat ?? 'text'
  if (logFormat !== 'text' && logFormat !== 'json') fail('logFormat', 'expected "text" or "json"')
  const dataDir = input.dataDir ?? join(defaultDataRoot(), name)
  if (typeof dataDir !== 'string' || dataDir === '') fail('dataDir', 'expected a directory path')
  const apiHost = input.apiHost ?? DEFAULT_API_HOST
  if (typeof apiHost !== 'string' || apiHost === '') fail('apiHost', 'expected a host name or IP address')
  const mdns = input.mdns ?? role === 'edge'
  if (typeof mdns !== 'boolean') fail('mdns', 'expected true or false')
  const batching = input.batching ?? DEFAULT_BATCHING
  if (typeof batching !== 'boolean') fail('batching', 'expected true or false')
  for (const key of ['meshKey', 'allowPeers', 'apiToken', 'apiTokenFile'] as const) {
    if (input[key] != null && (typeof input[key] !== 'string' || input[key] === '')) fail(key, 'expected a file path')
  }
  if (input.apiToken != null && input.apiTokenFile != null) fail('apiToken', 'give apiToken or apiTokenFile, not both')
  const maxConnections = checkInt('maxConnections', input.maxConnections ?? DEFAULT_MAX_CONNECTIONS, 1, 10_000)
  // Dataset specs are parsed by the federated service at start (parsing pulls in the data loaders).
  const data = input.data == null ? undefined : checkStrings('data', input.data)
  if (data?.some((d) => d === '') === true) fail('data', 'expected [<name>=]<spec>')
  if (input.trustFile != null && (typeof input.trustFile !== 'string' || input.trustFile === '')) fail('trustFile', 'expected a file path')
  const trustMesh = input.trustMesh ?? false
  if (typeof trustMesh !== 'boolean') fail('trustMesh', 'expected true or false')
  if (input.byzantine != null) {
    if (typeof input.byzantine !== 'string') fail('byzantine', 'expected an attack name')
    parseByzantine(input.byzantine)
  }
  const offloadTo = input.offloadTo ?? DEFAULT_OFFLOAD_TO
  if (offloadTo !== 'any' && offloadTo !== 'trusted') fail('offloadTo', `expected "any" or "trusted", got ${JSON.stringify(offloadTo)}`)

  return {
    role,
    name,
    listen: checkMultiaddrs('listen', input.listen ?? [role === 'seed' ? DEFAULT_SEED_LISTEN : DEFAULT_EDGE_LISTEN], false),
    bootstrap: checkMultiaddrs('bootstrap', input.bootstrap ?? [], true),
    mdns,
    apiHost,
    apiPort: checkInt('apiPort', input.apiPort ?? (role === 'seed' ? DEFAULT_SEED_API_PORT : DEFAULT_API_PORT), 0, 65535),
    dataDir,
    preset: preset as PresetName,
    reportIntervalMs: checkInt('reportIntervalMs', input.reportIntervalMs ?? timings.reportIntervalMs, 50, 60_000),
    maxConnections,
    models: checkStrings('models', input.models ?? []),
    capacity: checkInt('capacity', input.capacity ?? DEFAULT_CAPACITY, 1, 1024),
    maxQueue: checkInt('maxQueue', input.maxQueue ?? DEFAULT_MAX_QUEUE, 0, 100_000),
    batching,
    simulateSlowdown: checkNumber('simulateSlowdown', input.simulateSlowdown ?? DEFAULT_SIMULATE_SLOWDOWN, 1, 1000),
    simulateServiceMs: checkNumber('simulateServiceMs', input.simulateServiceMs ?? DEFAULT_SIMULATE_SERVICE_MS, 0, 60_000),
    data: data !== undefined && data.length > 0 ? data : undefined,
    trust: checkPeerIds(checkStrings('trust', input.trust ?? []), 'trust'),
    trustFile: input.trustFile as string | undefined,
    trustMesh,
    byzantine: input.byzantine as string | undefined,
    fedMaxEpochs: checkInt('fedMaxEpochs', input.fedMaxEpochs ?? DEFAULT_MAX_EPOCHS, 1, 1_000_000),
    fedMaxRounds: checkInt('fedMaxRounds', input.fedMaxRounds ?? DEFAULT_MAX_ROUNDS, 1, 10_000_000),
    fedMaxDeadlineMs: checkInt('fedMaxDeadlineMs', input.fedMaxDeadlineMs ?? DEFAULT_MAX_DEADLINE_MS, 100, 30 * 24 * 3600 * 1000),
    fedMaxRuns: checkInt('fedMaxRuns', input.fedMaxRuns ?? DEFAULT_MAX_COORDINATED_RUNS, 1, 1024),
    fedMaxParticipatingRuns: checkInt('fedMaxParticipatingRuns', input.fedMaxParticipatingRuns ?? DEFAULT_MAX_PARTICIPATING_RUNS, 1, 1024),
    fedMaxExamples: checkInt('fedMaxExamples', input.fedMaxExamples ?? DEFAULT_MAX_EXAMPLES, 1, 0xFFFFFFFF),
    fedMaxWeightBytes: checkInt('fedMaxWeightBytes', input.fedMaxWeightBytes ?? DEFAULT_MAX_RECORD_BYTES, 1024, 2 ** 31),
    fedMaxFeatureExamples: checkInt('fedMaxFeatureExamples', input.fedMaxFeatureExamples ?? DEFAULT_MAX_FEATURE_EXAMPLES, 1, 0xFFFFFFFF),
    meshKey: input.meshKey as string | undefined,
    allowPeers: input.allowPeers as string | undefined,
    dialRanges: checkStrings('dialRanges', input.dialRanges ?? []),
    logFormat,
    apiToken: input.apiToken as string | undefined,
    apiTokenFile: input.apiTokenFile as string | undefined,
    apiAllowHosts: checkStrings('apiAllowHosts', input.apiAllowHosts ?? []),
    apiMaxBodyBytesInFlight: checkInt('apiMaxBodyBytesInFlight', input.apiMaxBodyBytesInFlight ?? DEFAULT_MAX_BODY_BYTES_IN_FLIGHT, 1024, 2 ** 40),
    maxConnectionsPerHost: checkInt('maxConnectionsPerHost', input.maxConnectionsPerHost ?? timings.maxConnectionsPerHost, 1, 10_000),
    reservedConnections: checkInt('reservedConnections', input.reservedConnections ?? Math.min(timings.reservedConnections, maxConnections - 1), 0, maxConnections - 1),
    modelMemory: parseByteSize('modelMemory', input.modelMemory ?? DEFAULT_MODEL_MEMORY_BYTES),
    maxModels: checkInt('maxModels', input.maxModels ?? DEFAULT_MAX_MODELS, 1, 10_000),
    spotCheck: checkNumber('spotCheck', input.spotCheck ?? DEFAULT_SPOT_CHECK_RATE, 0, 1),
    offloadTo
  }
}
