/**
 * The in-process side of the benchmark: an edge-mesh node that runs inside the
 * driver process, so requests are timed around `offload.infer()` with no HTTP
 * in the way.
 *
 * It is composed here from the same service factories as
 * `src/node/create-node.ts` (TCP, Noise, yamux, identify, gossipsub, models,
 * load gossip, offload), without the control API, discovery and relay, which
 * no request touches. It is not built with `createEdgeMeshNode` because the
 * benchmark sets offload options that node configuration does not expose: the
 * scheduling `policy` (phase 2), and `hedging: false` in the latency phase:
 * with one peer, a hedge of a `prefer: 'remote'` request has no other peer to
 * go to and falls back to this node, which then answers first, so "remote"
 * samples would be served locally.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { readFile } from 'node:fs/promises'
import { loopbackAddress } from '../../src/cli/cluster.js'
import { loadGossip, localLoad } from '../../src/gossip/index.js'
import { models } from '../../src/model/index.js'
import { PRESETS } from '../../src/node/index.js'
import { offload } from '../../src/offload/index.js'
import { modelTransfer } from '../../src/model-transfer/index.js'
import { INPUT_FILE, MODEL_ID } from './constants.js'
import type { LoadView } from '../../src/gossip/types.js'
import type { ModelRuntime, TensorData } from '../../src/model/types.js'
import type { Offload, SchedulingPolicy } from '../../src/offload/index.js'
import type { Libp2p } from '@libp2p/interface'

/** What a phase needs of an in-process node. */
export interface InProcessNode {
  peerId: string
  libp2p: Libp2p
  offload: Offload
  loadView: LoadView
  /** The node's model runtime: direct `predict`, no offload in the way. */
  models: Pick<ModelRuntime, 'predict'>
  stop(): Promise<void>
}

/** Loopback host of in-process nodes (serving processes take the following ones). */
const DRIVER_HOST = loopbackAddress(100)

/** The benchmark input: one [1, 784] float32 MNIST digit. */
export async function benchInput (): Promise<TensorData> {
  const json = JSON.parse(await readFile(INPUT_FILE, 'utf8'))
  return { shape: json.shape, dtype: 'float32', data: Float32Array.from(json.data) }
}

export interface InProcessInit {
  /** Model directories this node serves. @default [] (requests run on peers) */
  models?: string[]
  /** Offload scheduling policy. @default 'p2c' */
  policy?: SchedulingPolicy
  /** Hedge slow requests. @default true */
  hedging?: boolean
  /** Execution slots of this node's own engine. @default 2 */
  capacity?: number
  /** Requests that may wait for a slot on this node. @default the offload default (32) */
  maxQueue?: number
  /** Addresses (with /p2p/) to dial at start. */
  peers: string[]
  /** Share of remote results spot-checked (the spot-check benchmark). @default 0 */
  spotCheckRate?: number
  /** Random source of spot-check sampling. @default Math.random */
  random?(): number
  /** Longest a micro-batch of this node's engine should compute, ms. @default the offload default (100) */
  maxBatchMs?: number
}

/** An edge-mesh node in this process, connected to `peers`. */
export async function startInProcessNode (init: InProcessInit): Promise<InProcessNode> {
  const timings = PRESETS['local-test']
  const capacity = init.capacity ?? 2
  const libp2p = await createLibp2p({
    addresses: { listen: [`/ip4/${DRIVER_HOST}/tcp/0`] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, heartbeatInterval: timings.heartbeatMs, scoreParams: { IPColocationFactorWeight: 0 } }),
      models: models({ modelDirs: init.models ?? [] }),
      localLoad: localLoad({ capacity }),
      loadView: loadGossip({ intervalMs: timings.reportIntervalMs, expiryIntervals: timings.expiryIntervals, name: 'bench-driver' }),
      modelTransfer: modelTransfer(),
      offload: offload({ policy: init.policy, hedging: init.hedging, capacity, maxQueue: init.maxQueue, spotCheckRate: init.spotCheckRate ?? 0, random: init.random, maxBatchMs: init.maxBatchMs })
    }
  })
  await Promise.all(init.peers.map(async a => await libp2p.dial(multiaddr(a))))
  return {
    peerId: libp2p.peerId.toString(),
    libp2p,
    offload: libp2p.services.offload,
    loadView: libp2p.services.loadView,
    models: libp2p.services.models,
    stop: async () => { await libp2p.stop() }
  }
}

/** Wait until the node's load view shows every one of `peerIds` announcing the benchmark model (or `modelId`). */
export async function waitForPeers (node: InProcessNode, peerIds: string[], timeoutMs = 60_000, modelId = MODEL_ID): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const holders = new Set(node.loadView.peers().filter(p => p.report.models.includes(modelId)).map(p => p.peerId))
    if (peerIds.every(id => holders.has(id))) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`peers ${peerIds.join(', ')} not seen announcing the model within ${timeoutMs} ms`)
}
