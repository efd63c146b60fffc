/**
 * The mesh transport of secure aggregation: each stage of
 * `privacy/secagg/workflow.ts` is one request/response exchange of
 * `/edge-mesh/fedavg/1.0.0` (types 20-27) with the client's peer, counted in
 * the run grid's byte counters (which also count the global weights that
 * participants PULL). The coordinator's own virtual clients are not trained
 * in secure runs: their updates would be aggregated in the clear here.
 */
import { InvalidConfigError, ProtocolError } from '../../errors.js'
import { bytesToBigint } from '../privacy/secagg/shamir.js'
import { maskedVector } from '../privacy/secagg/vector.js'
import { parseClientId } from './mesh-grid.js'
import { exchange } from './protocol/wire.js'
import * as C from './protocol/constants.js'
import type { SecAggRef, SecAggTransport } from '../privacy/secagg/workflow.js'
import type { MeshGrid } from './mesh-grid.js'
import type { FedMessage, MessageName } from './protocol/messages.js'
import type { StreamOpener } from './protocol/wire.js'
import type { WeightRecord } from '../../model/types.js'
import type { AbortOptions } from '@libp2p/interface'

export interface MeshSecAggTransportInit {
  runId: string
  selfId: string
  connectionManager: StreamOpener
  grid: Pick<MeshGrid, 'bytesUp' | 'bytesDown' | 'offer'>
  /** Largest masked-vector record accepted, bytes. @default 48 MiB */
  maxRecordBytes?: number
  /** Timeout of the setup exchange (it includes fetching the base model), ms. @default DEFAULT_ANNOUNCE_TIMEOUT_MS */
  setupTimeoutMs?: number
}

export function meshSecAggTransport (init: MeshSecAggTransportInit): SecAggTransport {
  const { grid, runId } = init
  const target = (clientId: string): { peerId: string, index: number } => {
    const { peerId, index } = parseClientId(clientId)
    if (peerId === init.selfId) throw new InvalidConfigError('secure aggregation does not train the coordinator\'s own clients (their updates would be in the clear here)')
    return { peerId, index }
  }
  const send = async <N extends MessageName>(clientId: string, build: (index: number) => FedMessage, expect: N, timeoutMs: number, options: AbortOptions): Promise<{ message: Extract<FedMessage, { type: N }>, record?: WeightRecord }> => {
    const { peerId, index } = target(clientId)
    const r = await exchange(init.connectionManager, peerId, build(index), undefined, expect, { timeoutMs, maxRecordBytes: init.maxRecordBytes, signal: options.signal })
    grid.bytesDown += r.bytesSent
    grid.bytesUp += r.bytesReceived
    return r
  }
  const ref = (r: SecAggRef, clientIndex: number): { runId: string, round: number, attempt: number, clientIndex: number } => ({ runId, round: r.round, attempt: r.attempt, clientIndex })
  return {
    async setup (clientId, m, options) {
      const c = m.config
      grid.offer(m.modelVersion, m.weights, target(clientId).peerId)
      const { message } = await send(clientId, (clientIndex) => ({
        type: 'secagg-setup', ...ref(m, clientIndex), version: m.modelVersion, baseModelId: m.baseModelId, ...m.train,
        deadlineMs: m.deadlineMs, id: m.id, clients: c.ids.length, degree: c.degree, threshold: c.threshold, graphSeed: c.graphSeed,
        vectorLength: c.vectorLength, bound: c.bound, maxTotalWeight: c.maxTotalWeight, stageTimeoutMs: m.stageTimeoutMs,
        ...(m.noise === undefined ? {} : { dpClipNorm: m.noise.clipNorm, dpNoiseStd: m.noise.noiseStd }),
        ...(c.ringBits === undefined ? {} : { ringBits: c.ringBits })
      }), 'secagg-keys', init.setupTimeoutMs ?? C.DEFAULT_ANNOUNCE_TIMEOUT_MS, options)
      return { numExamples: message.numExamples, cPk: message.cPk, sPk: message.sPk }
    },
    async neighbours (clientId, r, keys, options) {
      const { message } = await send(clientId, (i) => ({ type: 'secagg-neighbours', ...ref(r, i), keys }), 'secagg-shares', C.DEFAULT_ANNOUNCE_TIMEOUT_MS, options)
      return message.shares
    },
    async inbox (clientId, r, shares, vectorLength, options, ringBits) {
      const { message, record } = await send(clientId, (i) => ({ type: 'secagg-inbox', ...ref(r, i), shares }), 'secagg-masked', C.DEFAULT_TRANSFER_TIMEOUT_MS, options)
      if (record === undefined) throw new ProtocolError('secagg-masked reply without its record')
      return { vector: maskedVector(record, vectorLength, ringBits), metrics: { loss: message.loss, accuracy: message.accuracy, trainMs: message.trainMs } }
    },
    async unmask (clientId, r, survivors, dropped, options) {
      const { message } = await send(clientId, (i) => ({ type: 'secagg-unmask', ...ref(r, i), survivors, dropped }), 'secagg-reveal', C.DEFAULT_ANNOUNCE_TIMEOUT_MS, options)
      const shares = (list: Array<{ of: number, y: Uint8Array }>): Array<{ of: number, y: bigint }> => list.map((s) => ({ of: s.of, y: bytesToBigint(s.y) }))
      return { selfShares: shares(message.selfShares), keyShares: shares(message.keyShares) }
    },
    bytes: () => ({ up: grid.bytesUp, down: grid.bytesDown })
  }
}
