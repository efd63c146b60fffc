/**
 * Composition of an edge-mesh node: a libp2p node (TCP, Noise, yamux,
 * identify, ping, gossipsub, circuit relay) whose services are the edge-mesh
 * capabilities. This file wires configuration to services; it implements none.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { join } from 'node:path'
import { controlApi } from '../api/index.js'
import { discoveryModules, meshDialer } from '../discovery/index.js'
import { federated } from '../federated/mesh/service.js'
import { loadGossip, localLoad } from '../gossip/index.js'
import { models } from '../model/index.js'
import { modelTransfer } from '../model-transfer/index.js'
import { offload } from '../offload/index.js'
import { AdmissionPolicy, dialRangeFilter, meshServiceTag, readAllowList, readMeshKey } from '../trust/index.js'
import { loadOrCreateIdentity } from './identity.js'
import { PRESETS } from './presets.js'
import type { EdgeMeshConfig } from './config.js'
import type { Libp2pInit } from './libp2p-init.js'

/** Build the libp2p node with every edge-mesh service, not started. */
export async function buildLibp2p (config: EdgeMeshConfig, overrides: Libp2pInit = {}) {
  const timings = PRESETS[config.preset]
  const privateKey = overrides.privateKey ?? await loadOrCreateIdentity(config.dataDir)
  const isSeed = config.role === 'seed'
  const meshKey = config.meshKey != null ? readMeshKey(config.meshKey) : undefined
  const admission = new AdmissionPolicy(config.allowPeers != null ? readAllowList(config.allowPeers) : undefined, {
    maxPerHost: config.maxConnectionsPerHost,
    maxConnections: config.maxConnections,
    reserved: config.reservedConnections
  })
  const dialFilter = dialRangeFilter(config.dialRanges)
  return createLibp2p({
    start: false,
    privateKey,
    ...(meshKey != null ? { connectionProtector: preSharedKey({ psk: meshKey }) } : {}),
    connectionGater: admission.gater(),
    addresses: { listen: config.listen },
    transports: overrides.transports ?? [tcp(), circuitRelayTransport()],
    connectionEncrypters: overrides.connectionEncrypters ?? [noise()],
    streamMuxers: overrides.streamMuxers ?? [yamux()],
    peerDiscovery: [
      ...discoveryModules({
        mdns: config.mdns,
        mdnsIntervalMs: timings.mdnsIntervalMs,
        bootstrap: config.bootstrap,
        ...(meshKey != null ? { serviceTag: meshServiceTag(meshKey) } : {})
      }),
      ...(overrides.peerDiscovery ?? [])
    ],
    connectionManager: {
      maxConnections: config.maxConnections,
      inboundConnectionThreshold: timings.inboundConnectionThreshold,
      maxIncomingPendingConnections: timings.maxIncomingPendingConnections
    },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        heartbeatInterval: timings.heartbeatMs,
        ...timings.pubsubMesh,
        floodPublish: timings.floodPublish,
        doPX: isSeed,
        scoreParams: timings.ipColocationPenalty ? {} : { IPColocationFactorWeight: 0 }
      }),
      ...(isSeed ? { relay: circuitRelayServer({ reservations: { maxReservations: 256 } }) } : {}),
      trust: (components: { connectionManager: { getConnections(): unknown[] } }) => admission.attach(components.connectionManager),
      models: models({ modelDirs: config.models, maxModelBytes: config.modelMemory, maxModels: config.maxModels }),
      localLoad: localLoad({ capacity: config.capacity }),
      loadView: loadGossip({
        intervalMs: config.reportIntervalMs,
        expiryIntervals: timings.expiryIntervals,
        heartbeatBudget: timings.heartbeatBudget,
        changeBudget: timings.changeBudget,
        maxIntervalMs: timings.maxHeartbeatMs,
        role: config.role,
        name: config.name
      }),
      modelTransfer: modelTransfer({ cacheDir: join(config.dataDir, 'models') }),
      offload: offload({
        capacity: config.capacity,
        maxQueue: config.maxQueue,
        simulateSlowdown: config.simulateSlowdown,
        simulateServiceMs: config.simulateServiceMs,
        batching: config.batching,
        spotCheckRate: config.spotCheck,
        offloadTo: config.offloadTo,
        trustedPeers: config.trust
      }),
      federated: federated({
        data: config.data,
        dataDir: config.dataDir,
        role: config.role,
        trust: config.trust,
        trustFile: config.trustFile,
        trustMesh: config.trustMesh,
        meshKey: meshKey != null,
        bootstrap: config.bootstrap,
        byzantine: config.byzantine,
        maxRecordBytes: config.fedMaxWeightBytes,
        bounds: {
          maxEpochs: config.fedMaxEpochs,
          maxRounds: config.fedMaxRounds,
          maxDeadlineMs: config.fedMaxDeadlineMs,
          maxCoordinatedRuns: config.fedMaxRuns,
          maxParticipatingRuns: config.fedMaxParticipatingRuns,
          maxExamples: config.fedMaxExamples,
          maxFeatureExamples: config.fedMaxFeatureExamples
        }
      }),
      meshDialer: meshDialer({ dataDir: config.dataDir, maxConnections: config.maxConnections, redialMs: timings.redialMs, dialFilter, bootstrap: config.bootstrap }),
      api: controlApi({
        host: config.apiHost,
        port: config.apiPort,
        role: config.role,
        name: config.name,
        token: config.apiToken,
        tokenFile: config.apiTokenFile,
        dataDir: config.dataDir,
        allowHosts: config.apiAllowHosts,
        maxBodyBytesInFlight: config.apiMaxBodyBytesInFlight
      }),
      // Extra services are reachable as `libp2p.services[name]`; they are not part of the typed set.
      ...(overrides.services as {})
    }
  })
}
