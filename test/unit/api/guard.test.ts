/** The control API's request guard and body budget, as pure functions. */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BodyBudget } from '../../../src/api/body-budget.js'
import { checkHost, checkMediaType, checkOrigin, checkToken, decodePath, hostName, isLoopbackHost, tokenMatches } from '../../../src/api/guard.js'
import { resolveApiToken } from '../../../src/api/token.js'
import type { GuardPolicy } from '../../../src/api/guard.js'

const policy: GuardPolicy = { hosts: new Set(['localhost', '127.0.0.1', '::1', 'node.lan']), port: 7373 }

function errorName (fn: () => unknown): string {
  try { fn() } catch (err: any) { return err.name }
  return 'none'
}

describe('Host and Origin checks', () => {
  it('parses host names out of Host headers', () => {
    expect(hostName('LOCALHOST:7373')).toBe('localhost')
    expect(hostName('[::1]:7373')).toBe('::1')
    expect(hostName('127.0.0.1')).toBe('127.0.0.1')
    expect(hostName('localhost.')).toBe('localhost')
    expect(hostName('a b')).toBeUndefined()
    expect(hostName('evil.example@127.0.0.1')).toBeUndefined()
  })

  it('answers to its own names only', () => {
    for (const ok of ['localhost:7373', '127.0.0.1:7373', '[::1]:7373', 'node.lan', undefined]) expect(errorName(() => { checkHost(ok, policy) })).toBe('none')
    for (const bad of ['evil.example', 'localhost.evil.example:7373', '127.0.0.1.nip.io', '']) expect(errorName(() => { checkHost(bad, policy) })).toBe('ForbiddenHostError')
  })

  it('accepts no Origin or its own, refuses every other', () => {
    for (const ok of [undefined, 'http://localhost:7373', 'http://127.0.0.1:7373', 'http://[::1]:7373']) expect(errorName(() => { checkOrigin(ok, policy) })).toBe('none')
    for (const bad of ['null', 'http://evil.example', 'http://localhost:8080', 'https://localhost:7373', 'http://localhost', 'http://localhost:7373/x']) {
      expect(errorName(() => { checkOrigin(bad, policy) })).toBe('ForbiddenOriginError')
    }
  })

  it('knows loopback hosts', () => {
    expect(['127.0.0.1', '127.0.0.9', 'localhost', '::1', '[::1]'].every(isLoopbackHost)).toBe(true)
    expect(['0.0.0.0', '192.168.1.2', '::', 'node.lan'].some(isLoopbackHost)).toBe(false)
  })
})

describe('bodies, tokens and paths', () => {
  it('takes JSON bodies only', () => {
    expect(errorName(() => { checkMediaType({ 'content-type': 'application/json; charset=utf-8', 'content-length': '2' }) })).toBe('none')
    expect(errorName(() => { checkMediaType({}) })).toBe('none')
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
      expect(errorName(() => { checkMediaType({ 'content-type': type, 'content-length': '2' }) })).toBe('UnsupportedMediaTypeError')
      expect(errorName(() => { checkMediaType({ 'content-type': type, 'transfer-encoding': 'chunked' }) })).toBe('UnsupportedMediaTypeError')
    }
  })

  it('compares tokens exactly', () => {
    expect(tokenMatches('secret-token', 'secret-token')).toBe(true)
    expect(tokenMatches('secret-tokeN', 'secret-token')).toBe(false)
    expect(tokenMatches('', 'secret-token')).toBe(false)
    const withToken = { ...policy, token: 'secret-token' }
    const q = new URLSearchParams()
    expect(errorName(() => { checkToken({}, 'GET', q, policy) })).toBe('none')
    expect(errorName(() => { checkToken({}, 'GET', q, withToken) })).toBe('UnauthorizedError')
    expect(errorName(() => { checkToken({ authorization: 'Bearer nope' }, 'GET', q, withToken) })).toBe('UnauthorizedError')
    expect(errorName(() => { checkToken({ authorization: 'Bearer secret-token' }, 'POST', q, withToken) })).toBe('none')
    expect(errorName(() => { checkToken({}, 'GET', new URLSearchParams('access_token=secret-token'), withToken) })).toBe('none')
    expect(errorName(() => { checkToken({}, 'POST', new URLSearchParams('access_token=secret-token'), withToken) })).toBe('UnauthorizedError')
  })

  it('refuses malformed percent-encoding', () => {
    expect(decodePath('/federated/runs/a%20b')).toBe('/federated/runs/a b')
    expect(errorName(() => decodePath('/federated/runs/%ZZ'))).toBe('InvalidRequestError')
    expect(errorName(() => decodePath('/%E0%A4%A'))).toBe('InvalidRequestError')
  })
})

describe('BodyBudget', () => {
  it('holds up to its capacity, refuses beyond, and gives bytes back once', () => {
    const budget = new BodyBudget(32)
    const a = budget.tryAcquire(11)
    const b = budget.tryAcquire(11)
    expect(budget.tryAcquire(11)).toBeUndefined()
    const c = budget.tryAcquire(10)
    expect(c).toBeDefined()
    expect(budget.refused).toBe(1)
    a?.()
    a?.()
    expect(budget.inFlight).toBe(21)
    b?.()
    c?.()
    expect(budget.tryAcquire(1000)).toBeDefined()
    expect(budget.inFlight).toBe(32)
  })
})

describe('resolveApiToken', () => {
  it('needs none on loopback, generates and reuses one beyond it, and rejects short tokens', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edge-mesh-token-'))
    try {
      expect(await resolveApiToken({ host: '127.0.0.1', dataDir: dir })).toEqual({ generated: false })
      const first = await resolveApiToken({ host: '0.0.0.0', dataDir: dir })
      expect(first.generated).toBe(true)
      expect(first.file).toBe(join(dir, 'api.token'))
      expect(((await stat(first.file as string)).mode & 0o777).toString(8)).toBe('600')
      expect((await readFile(first.file as string, 'utf8')).trim()).toBe(first.token)
      const again = await resolveApiToken({ host: '192.168.1.5', dataDir: dir })
      expect(again).toEqual({ token: first.token, file: first.file, generated: false })
      await expect(resolveApiToken({ host: '127.0.0.1', dataDir: dir, token: 'short' })).rejects.toThrow(/at least/)
      await expect(resolveApiToken({ host: '127.0.0.1', dataDir: dir, tokenFile: join(dir, 'missing') })).rejects.toMatchObject({ name: 'InvalidConfigError' })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
