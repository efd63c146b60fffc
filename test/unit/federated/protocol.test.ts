import { streamPair } from '@libp2p/utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { errorFromMessage, errorMessage } from '../../../src/federated/mesh/protocol/errors.js'
import { decodeMessage, encodeMessage } from '../../../src/federated/mesh/protocol/messages.js'
import { MessageReader, readMessage, writeMessage } from '../../../src/federated/mesh/protocol/wire.js'
import { decodeRunAnnouncement, encodeRunAnnouncement, KnownRuns } from '../../../src/federated/mesh/run-gossip.js'
import { InvalidUpdateError } from '../../../src/errors.js'
import { encodedWeightRecordSize } from '../../../src/federated/weights/codec.js'
import type { FedMessage } from '../../../src/federated/mesh/protocol/messages.js'
import type { RunSummary } from '../../../src/federated/mesh/service-types.js'
import { newRunId } from '../../../src/federated/mesh/run-id.js'
import type { WeightRecord } from '../../../src/model/types.js'

const MESSAGES: FedMessage[] = [
  { type: 'hello' },
  { type: 'hello-ok', clients: [100, 2000] },
  {
    type: 'announce', runId: 'run-abc-1', round: 3, attempt: 1, version: 2, globalModelId: 'sha256-aa', baseModelId: 'sha256-bb',
    clientIndex: 1, epochs: 2, batchSize: 10, learningRate: 0.1, proximalMu: 0, seed: 42, deadlineMs: 60000
  },
  { type: 'accept', numExamples: 2000 },
  { type: 'pull', runId: 'run-abc-1', version: 2 },
  { type: 'weights', runId: 'run-abc-1', version: 2, weightBytes: 1234 },
  { type: 'push', runId: 'run-abc-1', round: 3, attempt: 1, version: 2, clientIndex: 0, numExamples: 10, loss: 0.5, accuracy: 0.9, trainMs: 12.5, weightBytes: 99 },
  { type: 'ack' },
  { type: 'start', spec: { rounds: 3, strategy: 'fedavg' } },
  { type: 'started', runId: 'run-abc-1', coordinator: '12D3KooW' },
  { type: 'cancel', runId: 'run-abc-1' },
  { type: 'error', name: 'LateUpdateError', message: 'round closed' },
  { type: 'hello-ok', clients: [100, 2000], keys: [4294967295, 7] }
]

const record: WeightRecord = [
  { name: 'dense/kernel', shape: [30, 40], dtype: 'float32', data: Float32Array.from({ length: 1200 }, (_, i) => i / 7) },
  { name: 'dense/bias', shape: [40], dtype: 'float32', data: new Float32Array(40).fill(0.5) }
]

const allowed = new Set(['InvalidMessageError', 'MessageTooLargeError'])

describe('fedavg control frames', () => {
  it('round trip every message type', () => {
    for (const m of MESSAGES) expect(decodeMessage(encodeMessage(m))).toEqual(m)
  })

  it('encode non-finite metrics as null and decode them as NaN', () => {
    const m = decodeMessage(encodeMessage({ ...(MESSAGES[6] as any), loss: Number.NaN }))
    expect(Number.isNaN((m as any).loss)).toBe(true)
  })

  it('reject malformed frames with named errors', () => {
    const bytes = (s: string, type = 3): Uint8Array => Uint8Array.from([1, type, ...new TextEncoder().encode(s)])
    const cases: Array<[Uint8Array, string]> = [
      [Uint8Array.from([1, 3]), 'InvalidMessageError'],
      [Uint8Array.from([2, 1, 0x7b, 0x7d]), 'InvalidMessageError'],
      [bytes('{}', 99), 'InvalidMessageError'],
      [bytes('{not json'), 'InvalidMessageError'],
      [bytes('[1,2]'), 'InvalidMessageError'],
      [bytes('{"runId":"run-1"}'), 'InvalidMessageError'],
      [bytes('{"runId":"../etc","version":1}', 5), 'InvalidMessageError'],
      [bytes('{"runId":"run-1","version":-1}', 5), 'InvalidMessageError'],
      [bytes('{"runId":"run-1","version":1.5}', 5), 'InvalidMessageError'],
      [Uint8Array.from([1, 5, 0xff, 0xfe]), 'InvalidMessageError'],
      [new Uint8Array(17 * 1024).fill(0x20), 'MessageTooLargeError']
    ]
    for (const [frame, name] of cases) expect(() => decodeMessage(frame)).toThrow(expect.objectContaining({ name }))
    expect(() => encodeMessage({ type: 'error', name: 'X', message: 'y'.repeat(20_000) })).toThrow(expect.objectContaining({ name: 'MessageTooLargeError' }))
  })

  it('never throw anything but named errors on 10,000 random and 10,000 mutated frames', () => {
    const check = (frame: Uint8Array): void => {
      try {
        const m = decodeMessage(frame)
        expect(decodeMessage(encodeMessage(m))).toEqual(m)
      } catch (err: any) {
        if (!allowed.has(err?.name)) throw err
      }
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => { check(Uint8Array.from([1, ...b])) }), { numRuns: 10_000 })
    const valid = MESSAGES.map(encodeMessage)
    fc.assert(fc.property(
      fc.integer({ min: 0, max: valid.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.nat({ max: 400 }),
      (which, edits, cut) => {
        const frame = valid[which].slice(0, Math.max(0, valid[which].length - (cut % 8 === 0 ? cut % 40 : 0)))
        for (const [at, value] of edits) if (frame.length > 0) frame[at % frame.length] = value
        check(frame)
      }), { numRuns: 10_000 })
  })

  it('rebuild only known error classes from error messages', () => {
    expect(errorFromMessage(errorMessage(new InvalidUpdateError('bad')))).toMatchObject({ name: 'InvalidUpdateError', message: 'bad' })
    expect(errorMessage(new TypeError('x')).name).toBe('InternalError')
    expect(errorFromMessage({ name: 'EvilError', message: 'x' }).name).toBe('InternalError')
  })

  it('never send the text of an unnamed failure (it may quote a local file)', () => {
    const leak = new SyntaxError('Unexpected token S, "SECRET-CONTENT" is not valid JSON')
    expect(errorMessage(leak)).toEqual({ type: 'error', name: 'InternalError', message: expect.not.stringContaining('SECRET') })
    expect(errorFromMessage(errorMessage(new Error('/home/user/.ssh/id_rsa'))).message).not.toContain('/home')
  })
})

describe('fedavg messages on a stream', () => {
  it('carry a weight record in data frames with backpressure and count the bytes', async () => {
    const [a, b] = await streamPair({ capacity: 2 })
    const header = { type: 'push', runId: 'run-1', round: 1, attempt: 1, version: 0, clientIndex: 0, numExamples: 5, loss: 1, accuracy: 0, trainMs: 1, weightBytes: encodedWeightRecordSize(record) } as const
    const reader = new MessageReader(b)
    const [sent, got] = await Promise.all([
      writeMessage(a, header, record, { chunkBytes: 512 }).then(async (n) => { await a.close(); return n }),
      readMessage(reader, 'push')
    ])
    expect(got.message).toEqual(header)
    expect(got.record?.map(t => t.name)).toEqual(['dense/kernel', 'dense/bias'])
    expect(Array.from(got.record![0].data)).toEqual(Array.from(record[0].data))
    expect(reader.bytesRead).toBe(sent)
    await reader.end()
  })

  it('refuse a record larger than the limit before reading it, and a short record', async () => {
    const [a, b] = await streamPair()
    void writeMessage(a, { type: 'weights', runId: 'run-1', version: 0, weightBytes: 10_000_000 }, undefined).then(async () => { await a.close() })
    await expect(readMessage(new MessageReader(b, { maxRecordBytes: 1_000_000 }), 'weights')).rejects.toMatchObject({ name: 'MessageTooLargeError' })
    const [c, d] = await streamPair()
    void writeMessage(c, { type: 'weights', runId: 'run-1', version: 0, weightBytes: encodedWeightRecordSize(record) + 4 }, record).then(async () => { await c.close() })
    await expect(readMessage(new MessageReader(d), 'weights')).rejects.toMatchObject({ name: 'ProtocolError' })
  })
})

describe('run summaries on /edge-mesh/fedruns/1', () => {
  const run: RunSummary = {
    id: newRunId('peer-a'), state: 'running', strategy: 'fedavg', rounds: 3, completedRounds: 1, coordinator: 'peer-a', globalModelId: 'sha256-x', startedAt: 1,
    history: [{ round: 1, accuracy: 0.9, loss: 0.3, participants: 4, participantIds: ['a#0', 'b#0', 'd#0', 'e#0'], failures: 1, failureReasons: ['c#0: InvalidUpdateError: nan'], wallMs: 10, bytesUp: 5, bytesDown: 6, globalModelId: 'sha256-x' }]
  }

  it('round trip, drop old rounds to fit, and keep the newest announcement from the coordinator only', () => {
    expect(decodeRunAnnouncement(encodeRunAnnouncement({ seq: 5, run })).run).toEqual(run)
    const long = { ...run, history: Array.from({ length: 900 }, (_, i) => ({ ...run.history[0], round: i + 1 })) }
    const fit = decodeRunAnnouncement(encodeRunAnnouncement({ seq: 1, run: long }, 20_000))
    expect(fit.run.history.at(-1)?.round).toBe(900)
    expect(fit.run.history.length).toBeLessThan(900)
    expect(() => decodeRunAnnouncement(new TextEncoder().encode('{"v":1,"seq":1,"run":{"id":"../x"}}'))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
    const known = new KnownRuns()
    expect(known.apply('peer-b', { seq: 9, run })).toBe(false)
    expect(known.apply('peer-a', { seq: 2, run })).toBe(true)
    expect(known.apply('peer-a', { seq: 1, run: { ...run, completedRounds: 0 } })).toBe(false)
    expect(known.get(run.id)?.completedRounds).toBe(1)
  })

  it('accept a summary only from the coordinator its run id binds to: a forger with a higher seq is refused', () => {
    const known = new KnownRuns()
    expect(known.apply('peer-a', { seq: 2, run })).toBe(true)
    // the forger names itself coordinator of peer-a's run id
    expect(known.apply('peer-f', { seq: 1e12, run: { ...run, coordinator: 'peer-f', completedRounds: 3 } })).toBe(false)
    expect(known.get(run.id)?.coordinator).toBe('peer-a')
    // ids of the old unbound form bind to no one
    expect(known.apply('peer-a', { seq: 3, run: { ...run, id: 'run-lq2x-abcdef' } })).toBe(false)
  })
})
