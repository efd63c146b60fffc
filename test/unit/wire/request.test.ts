/**
 * The outbound request shell: every way a request ends is a named error, the
 * stream is aborted on failure, and the exchange's own result passes through.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { describe, expect, it } from 'vitest'
import { ProtocolError } from '../../../src/errors.js'
import { request } from '../../../src/wire/request.js'
import type { StreamOpener } from '../../../src/wire/request.js'
import type { Stream } from '@libp2p/interface'

async function opener (): Promise<{ opener: StreamOpener, outbound: Stream[] }> {
  const outbound: Stream[] = []
  return {
    outbound,
    opener: {
      openStream: async () => {
        const [out] = await streamPair()
        outbound.push(out)
        return out
      }
    } as unknown as StreamOpener
  }
}

const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

describe('request with a deadline', () => {
  it('returns what the exchange returns', async () => {
    const { opener: o } = await opener()
    await expect(request(o, peer, '/p/1', async () => 42, { timeoutMs: 1000, what: 'test' })).resolves.toBe(42)
  })

  it('is a DeadlineExceededError when the exchange outlives the timeout, and aborts the stream', async () => {
    const { opener: o, outbound } = await opener()
    const never = async (_stream: Stream, signal: AbortSignal): Promise<never> => await new Promise((_resolve, reject) => {
      signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
    })
    await expect(request(o, peer, '/p/1', never, { timeoutMs: 20, what: 'test' })).rejects.toMatchObject({ name: 'DeadlineExceededError' })
    expect(outbound[0].status).not.toBe('open')
  })

  it('is an AbortError when the caller aborts, before or during the exchange', async () => {
    const { opener: o } = await opener()
    const before = new AbortController()
    before.abort()
    await expect(request(o, peer, '/p/1', async () => 1, { timeoutMs: 1000, what: 'test', signal: before.signal })).rejects.toMatchObject({ name: 'AbortError' })
    const during = new AbortController()
    const pending = request(o, peer, '/p/1', async (_s, signal) => await new Promise((_resolve, reject) => {
      signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
    }), { timeoutMs: 10_000, what: 'test', signal: during.signal })
    during.abort()
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('passes the exchange\'s own named error through, and names a bad peer id', async () => {
    const { opener: o } = await opener()
    await expect(request(o, peer, '/p/1', async () => { throw new ProtocolError('bad reply') }, { timeoutMs: 1000, what: 'test' })).rejects.toMatchObject({ name: 'ProtocolError' })
    await expect(request(o, 'not-a-peer-id', '/p/1', async () => 1, { timeoutMs: 1000, what: 'test' })).rejects.toMatchObject({ name: 'InvalidMessageError' })
  })
})
