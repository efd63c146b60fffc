/**
 * The flags of `edge-mesh start` and `seed` and their help text. Kept apart
 * from the parsing in `node-flags.ts` so that `--help` loads nothing heavy.
 */
import type { FlagSpec } from './args.js'

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
  --mdns, --no-mdns           discover peers on the LAN by mDNS, or not (edges: on, seeds: off)
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
Environment: EDGE_MESH_<SETTING> for each setting (EDGE_MESH_API_PORT, EDGE_MESH_BOOTSTRAP=a,b, EDGE_MESH_MDNS=false, ...);
  EDGE_MESH_BACKEND=tensorflow|wasm|cpu forces the TF.js backend (default: the best that loads);
  EDGE_MESH_DEBUG=1 prints stack traces of errors`
