import { describe, expect, it } from 'vitest'
import { parseCompression, parseCompressionSpec } from '../../../src/federated/privacy/compression.js'
import { encodeCompressed } from '../../../src/federated/privacy/compression-codec.js'
import { TopKState, densityAt, topKBytesBound } from '../../../src/federated/privacy/dgc.js'
import { ClientUplink, compressedBytesBound, roundCompression } from '../../../src/federated/privacy/uplink.js'
import { UplinkPolicy, uplinkAnnounceFields, uplinkFromAnnounce, uplinkPolicyOf } from '../../../src/federated/privacy/uplink-wire.js'
import { ParticipantUplinks, cryptoRandom } from '../../../src/federated/privacy/participant-uplink.js'
import { createRng } from '../../../src/federated/rng.js'
import { constant } from '../federated/helpers.js'

const name = (f: () => unknown): string => { try { f(); return 'none' } catch (err: any) { return err.name } }

describe('DGC top-k', () => {
  it('warms up exponentially from warmupDensity to the ratio', () => {
    const o = { ratio: 0.01, warmupRounds: 4, warmupDensity: 0.25 }
    expect(densityAt(1, o)).toBeCloseTo(0.25, 10)
    expect(densityAt(3, o)).toBeCloseTo(0.05, 10)
    expect(densityAt(5, o)).toBe(0.01)
    expect(densityAt(1, { ...o, warmupRounds: 0 })).toBe(0.01)
  })

  it('momentum correction accumulates velocity where nothing was sent, and masking stops it where something was', () => {
    const s = new TopKState()
    const [first] = s.sparsify([Float32Array.from([1, 0.5])], 0.5, { momentum: 0.5, clipNorm: 0 })
    expect(Array.from(first.indices)).toEqual([0])
    // index 1: u = 0.5*0.5 + 0.5 = 0.75, v = 0.5 + 0.75 = 1.25; index 0 was masked: u = 0 + 1 = 1, v = 1
    const [second] = s.sparsify([Float32Array.from([1, 0.5])], 0.5, { momentum: 0.5, clipNorm: 0 })
    expect(Array.from(second.indices)).toEqual([1])
    expect(second.values[0]).toBeCloseTo(1.25, 6)
  })

  it('clips the round delta before accumulating it', () => {
    const [sent] = new TopKState().sparsify([Float32Array.from([3, 4])], 1, { momentum: 0, clipNorm: 1 })
    expect(Array.from(sent.values)).toEqual([Math.fround(0.6), Math.fround(0.8)])
  })
})

describe('uplink settings on the wire', () => {
  it('round-trips through the ANNOUNCE fields, and a plain run adds none', () => {
    const topk = parseCompression('topk:0.01', { momentum: 0.9, clipNorm: 2, warmupRounds: 2, warmupDensity: 0.1 })
    const round1 = { compression: roundCompression(topk, 1), localDp: { clipNorm: 1, noiseMultiplier: 0.7 } }
    expect(uplinkFromAnnounce({ ...uplinkAnnounceFields(round1), round: 1 })).toEqual(round1)
    expect(uplinkAnnounceFields(round1).topkDensity).toBeCloseTo(0.1, 10)
    expect(uplinkAnnounceFields({ compression: { scheme: 'none' } })).toEqual({})
    expect(uplinkFromAnnounce({ compression: 'int8', round: 1 })).toEqual({ compression: { scheme: 'int8' } })
  })

  it('refuses contradicting fields with InvalidMessageError', () => {
    expect(name(() => uplinkFromAnnounce({ compression: 'topk', round: 1 }))).toBe('InvalidMessageError')
    expect(name(() => uplinkFromAnnounce({ topkDensity: 0.1, round: 1 }))).toBe('InvalidMessageError')
    expect(name(() => uplinkFromAnnounce({ localDpNoise: 1, round: 1 }))).toBe('InvalidMessageError')
  })

  it('parses the run spec field as a name or an object', () => {
    expect(parseCompressionSpec(undefined)).toBeUndefined()
    expect(parseCompressionSpec('none')).toBeUndefined()
    expect(parseCompressionSpec({ scheme: 'topk', ratio: 0.01, momentum: 0.9, warmupRounds: 3 })).toMatchObject({ scheme: 'topk', ratio: 0.01, momentum: 0.9, warmupRounds: 3, clipNorm: 0 })
    expect(name(() => parseCompressionSpec({ scheme: 'topk', ratio: 0.01, momentum: 1 }))).toBe('InvalidConfigError')
    expect(name(() => parseCompressionSpec({ scheme: 'zip' }))).toBe('InvalidConfigError')
    expect(uplinkPolicyOf({})).toBeUndefined()
    expect(uplinkPolicyOf({ dp: { mode: 'central', clipNorm: 1, noiseMultiplier: 1 } })).toBeUndefined()
    expect(uplinkPolicyOf({ dp: { mode: 'local', clipNorm: 1, noiseMultiplier: 1 } })?.round(1)).toEqual({ compression: { scheme: 'none' }, localDp: { clipNorm: 1, noiseMultiplier: 1 } })
  })
})

describe('the coordinator bounds and decodes compressed pushes', () => {
  const global = constant(0)
  const trained = constant(0.5)

  it('refuses an oversized compressed push before reading it, counted', () => {
    const refused: string[] = []
    const policy = new UplinkPolicy(parseCompression('int8'), undefined, (r) => refused.push(r))
    const bound = compressedBytesBound([4, 2], { scheme: 'int8' }) as number
    expect(bound).toBe(12 + 8 + 4 + 8 + 2)
    expect(name(() => policy.checkSize(global, { round: 1, weightBytes: bound, encoding: 'compressed' }))).toBe('none')
    expect(name(() => policy.checkSize(global, { round: 1, weightBytes: bound + 1, encoding: 'compressed' }))).toBe('MessageTooLargeError')
    expect(refused).toEqual(['compressed_oversized'])
    expect(topKBytesBound([4, 2], 0.5)).toBe(12 + (8 + 16) + (8 + 8))
  })

  it('refuses a malformed update, a weight record to a compressing run and another scheme, each counted', () => {
    const refused: string[] = []
    const policy = new UplinkPolicy(parseCompression('int8'), undefined, (r) => refused.push(r))
    const encoded = new ClientUplink().encode(global, trained, policy.round(1), createRng(1))
    if (encoded.kind !== 'compressed') throw new Error('expected compressed bytes')
    expect(policy.decode(global, 1, { compressed: encoded.bytes })[0].data[0]).toBeCloseTo(0.5, 6)
    const truncated = encoded.bytes.subarray(0, encoded.bytes.length - 1)
    expect(name(() => policy.decode(global, 1, { compressed: truncated }))).toBe('InvalidUpdateError')
    expect(name(() => policy.decode(global, 1, { record: trained }))).toBe('InvalidUpdateError')
    const topk = encodeCompressed({ scheme: 'topk', layers: [{ length: 4, indices: new Uint32Array(0), values: new Float32Array(0) }, { length: 2, indices: new Uint32Array(0), values: new Float32Array(0) }] })
    expect(name(() => policy.decode(global, 1, { compressed: topk }))).toBe('InvalidUpdateError')
    expect(refused).toEqual(['compressed_malformed', 'compression_mismatch', 'compression_mismatch'])
    const plain = new UplinkPolicy({ scheme: 'none' }, { clipNorm: 1, noiseMultiplier: 1 })
    expect(name(() => plain.decode(global, 1, { compressed: encoded.bytes }))).toBe('InvalidUpdateError')
  })
})

describe('participant uplinks', () => {
  it('keeps one top-k state per coordinator, run and client, at most maxStates', () => {
    const uplinks = new ParticipantUplinks(2)
    const a = { runId: 'run-a', round: 1, clientIndex: 0, compression: 'topk', topkDensity: 0.5 } as const
    for (const clientIndex of [0, 1, 2]) uplinks.encode('coord', { ...a, clientIndex }, constant(0), constant(1))
    expect(uplinks.size).toBe(2)
    uplinks.encode('coord', { runId: 'run-a', round: 1, clientIndex: 0, compression: 'int8' }, constant(0), constant(1))
    expect(uplinks.size).toBe(2)
  })

  it('draws uniforms in [0, 1) and standard normals from the CSPRNG', () => {
    const r = cryptoRandom()
    const n = 20000
    let sum = 0
    let sq = 0
    for (let i = 0; i < n; i++) {
      const u = r.next()
      expect(u >= 0 && u < 1).toBe(true)
      const z = r.normal()
      sum += z
      sq += z * z
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.05)
    expect(sq / n).toBeGreaterThan(0.9)
    expect(sq / n).toBeLessThan(1.1)
  })
})
