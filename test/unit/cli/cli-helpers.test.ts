/** The CLI's pure helpers: suggestions, the seed's join hint, the bootstrap warning, attempt lines. */
import { describe, expect, it } from 'vitest'
import { closest, editDistance } from '../../../src/cli/suggest.js'
import { joinAddresses, joinHintLines } from '../../../src/cli/join-hint.js'
import { createServer } from 'node:net'
import { BOOTSTRAP_WARNING_FAILURES, bootstrapWarning, classifyDialError, likelyCause, probeTcp } from '../../../src/cli/bootstrap-warning.js'
import { formatAttempts } from '../../../src/cli/commands/infer.js'
import { checkApiUrl } from '../../../src/cli/api-client.js'

const ID = '12D3KooWSK7PeCQww1WimvSGFFkcwTMTVM5UPWRzMaVzyE2RjEHp'

describe('suggestions', () => {
  it('measures edits', () => {
    expect(editDistance('mdns', 'mdns')).toBe(0)
    expect(editDistance('no-mdsn', 'no-mdns')).toBe(1)
    expect(editDistance('kitten', 'sitting')).toBe(3)
    expect(editDistance('', 'abc')).toBe(3)
  })

  it('suggests a close word and nothing for a far one', () => {
    expect(closest('bootstap', ['bootstrap', 'listen'])).toBe('bootstrap')
    expect(closest('statsu', ['start', 'status', 'seed'])).toBe('status')
    expect(closest('colour', ['bootstrap', 'listen'])).toBeUndefined()
  })
})

describe('the seed\'s join hint', () => {
  const lan = `/ip4/192.168.1.10/tcp/4010/p2p/${ID}`
  const loop = `/ip4/127.0.0.1/tcp/4010/p2p/${ID}`

  it('prefers addresses other devices can dial', () => {
    const join = joinAddresses([loop, `/ip6/::1/tcp/4010/p2p/${ID}`, `/ip6/fe80::1/tcp/4010/p2p/${ID}`, `/ip6/2001:db8::1/tcp/4010/p2p/${ID}`, lan])
    expect(join).toEqual({ addresses: [lan, `/ip6/2001:db8::1/tcp/4010/p2p/${ID}`], loopbackOnly: false })
    expect(joinHintLines([loop, lan])[0]).toContain(`--bootstrap ${lan}`)
  })

  it('falls back to loopback and says so', () => {
    expect(joinAddresses([loop])).toEqual({ addresses: [loop], loopbackOnly: true })
    expect(joinHintLines([loop]).join('\n')).toContain('loopback only')
  })
})

describe('the bootstrap warning', () => {
  const bootstrap = [`/ip4/127.0.0.5/tcp/4010/p2p/${ID}`]

  it('waits for the dials to fail, and never warns with a connection', () => {
    expect(bootstrapWarning(bootstrap, false, BOOTSTRAP_WARNING_FAILURES - 1, 'x')).toBeUndefined()
    expect(bootstrapWarning(bootstrap, true, 10, 'x')).toBeUndefined()
    expect(bootstrapWarning([], false, 10, 'x')).toBeUndefined()
    expect(bootstrapWarning(bootstrap, false, BOOTSTRAP_WARNING_FAILURES, 'the cause')).toContain('likely cause: the cause')
  })

  it('names the likely cause from what the probe found', () => {
    const stalled = classifyDialError(Object.assign(new Error('aborted'), { name: 'TimeoutError' }))
    const reset = classifyDialError(new Error('read ECONNRESET'))
    expect(stalled).toEqual({ kind: 'handshake-failed', stalled: true, message: 'timed out' })
    expect(likelyCause(stalled, true)).toContain('mesh-key mismatch')
    expect(likelyCause(reset, true)).toContain('mesh-key mismatch')
    expect(likelyCause(stalled, false)).toContain('private mesh')
    expect(likelyCause(reset, false)).toContain('private mesh')
    expect(likelyCause({ kind: 'refused' }, true)).toContain('nothing listens')
    expect(likelyCause({ kind: 'connected' }, false)).toContain('--allow-peers')
    expect(likelyCause(classifyDialError(Object.assign(new Error('Payload identity key a does not match expected remote identity key b'), { name: 'EncryptionFailedError' })), true)).toContain('/p2p/ id')
  })

  it('probes TCP: a closed port is refused', async () => {
    const server = createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as any).port
    expect(await probeTcp(`/ip4/127.0.0.1/tcp/${port}/p2p/${ID}`)).toBeUndefined()
    await new Promise(resolve => server.close(resolve))
    expect(await probeTcp(`/ip4/127.0.0.1/tcp/${port}/p2p/${ID}`)).toEqual({ kind: 'refused' })
    expect(await probeTcp('/memory/x')).toBeUndefined()
  })
})

describe('infer output', () => {
  it('prints one line per attempt, with any further fields', () => {
    const lines = formatAttempts([{ peerId: ID, outcome: 'PeerBusyError', ms: 3.2 }, { peerId: ID, outcome: 'DeadlineExceededError', ms: 12, hedge: true, startedAtMs: 4 }, 'timeout'])
    expect(lines).toEqual([
      '  attempt 1: 12D3KooW…2RjEHp  PeerBusyError  3.2 ms',
      '  attempt 2: 12D3KooW…2RjEHp  DeadlineExceededError  12.0 ms  (hedge)  startedAtMs=4',
      '  attempt 3: timeout'
    ])
  })

  it('suggests http:// for an API address without a scheme', () => {
    expect(() => { checkApiUrl('localhost:7373') }).toThrow('did you mean http://localhost:7373?')
    expect(() => { checkApiUrl('http://localhost:7373') }).not.toThrow()
  })
})

describe('error lines', () => {
  it('escape control characters a peer may have put in a message', async () => {
    const { formatError } = await import('../../../src/cli/errors.js')
    const err = new Error('no model named "x" in the mesh (models: evil\u001b[2J)\n  attempt 1: ok')
    err.name = 'ModelNotFoundError'
    expect(formatError(err)).toBe('edge-mesh: ModelNotFoundError: no model named "x" in the mesh (models: evil\\x1b[2J)\n  attempt 1: ok')
  })
})
