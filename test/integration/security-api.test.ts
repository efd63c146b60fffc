/**
 * The control API as a hostile web page, a DNS-rebinding page and a greedy
 * client meet it (issue #10 points 8 and 9), against real node processes:
 * each gets its documented refusal, counted in /metrics, while honest
 * requests keep being served.
 */
import { spawnSync } from 'node:child_process'
import { request } from 'node:http'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN_PATH } from '../../src/cli/cluster.js'
import { MNIST_MODEL_DIR, MNIST_MODEL_ID, TestCluster, getJson, inferVia, metric, mnistDigit, waitFor } from '../fixtures/index.js'
import type { NodeProcess } from '../fixtures/index.js'
import type { ClientRequest, OutgoingHttpHeaders } from 'node:http'

interface Answer { status: number, headers: Record<string, unknown>, body: any }

/** One request with exactly these headers (fetch cannot set Host); resolves on the response. */
function send (url: string, method: string, headers: OutgoingHttpHeaders, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, signal: AbortSignal.timeout(60_000) }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => {
        let parsed: unknown = text
        try { parsed = JSON.parse(text) } catch {}
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

const refused = async (node: NodeProcess, reason: string): Promise<number> => await metric(node, `edge_mesh_api_requests_refused_total{reason="${reason}"}`)

describe('the control API refuses what a browser page or a greedy client sends', () => {
  const cluster = new TestCluster()
  let node: NodeProcess
  let digit: Awaited<ReturnType<typeof mnistDigit>>
  let honest: string

  beforeAll(async () => {
    node = await cluster.start('api-guard', ['--model', MNIST_MODEL_DIR])
    digit = await mnistDigit(7)
    honest = JSON.stringify({ model: MNIST_MODEL_ID, inputs: [digit], prefer: 'local' })
  })
  afterAll(async () => { await cluster.cleanup() })

  it('refuses a foreign Origin and serves its own', async () => {
    const before = await refused(node, 'origin')
    for (const origin of ['http://evil.example', 'null', `${node.apiUrl}.evil.example`, 'http://127.0.0.1:1']) {
      const get = await send(`${node.apiUrl}/status`, 'GET', { origin })
      expect(get.status).toBe(403)
      expect(get.body.error.name).toBe('ForbiddenOriginError')
      const post = await send(`${node.apiUrl}/infer`, 'POST', { origin, 'content-type': 'application/json' }, honest)
      expect(post.status).toBe(403)
      expect(post.body.error.name).toBe('ForbiddenOriginError')
    }
    expect(await refused(node, 'origin')).toBe(before + 8)
    const own = await send(`${node.apiUrl}/infer`, 'POST', { origin: node.apiUrl, 'content-type': 'application/json' }, honest)
    expect(own.status).toBe(200)
    expect((await send(`${node.apiUrl}/status`, 'GET', {})).status).toBe(200)
  })

  it('refuses a foreign Host (DNS rebinding) and answers to localhost and its address', async () => {
    const port = new URL(node.apiUrl).port
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, 'localhost.evil.example']) {
      const res = await send(`${node.apiUrl}/status`, 'GET', { host })
      expect(res.status).toBe(403)
      expect(res.body.error.name).toBe('ForbiddenHostError')
    }
    expect(await refused(node, 'host')).toBeGreaterThanOrEqual(4)
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `LOCALHOST:${port}`]) {
      expect((await send(`${node.apiUrl}/status`, 'GET', { host })).status).toBe(200)
    }
  })

  it('refuses text/plain, form and multipart bodies (415) and serves JSON', async () => {
    const bodies: Array<[string | undefined, string]> = [
      ['text/plain', honest],
      ['text/plain;charset=UTF-8', honest],
      ['application/x-www-form-urlencoded', `x=${encodeURIComponent(honest)}`],
      ['multipart/form-data; boundary=b', `--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n${honest}\r\n--b--\r\n`],
      [undefined, honest]
    ]
    const before = await refused(node, 'media_type')
    for (const [type, body] of bodies) {
      for (const path of ['/infer', '/federated/runs']) {
        const res = await send(`${node.apiUrl}${path}`, 'POST', type == null ? {} : { 'content-type': type }, body)
        expect(res.status).toBe(415)
        expect(res.body.error.name).toBe('UnsupportedMediaTypeError')
      }
    }
    expect(await refused(node, 'media_type')).toBe(before + bodies.length * 2)
    expect((await inferVia(node, { model: MNIST_MODEL_ID, inputs: [digit], prefer: 'local' })).status).toBe(200)
  })

  it('answers bad URL encodings with 400 on every route', async () => {
    for (const path of ['/federated/runs/%ZZ', '/federated/runs/%E0%A4%A', '/status%ZZ', '/dashboard/%ZZ', '/%']) {
      const res = await send(`${node.apiUrl}${path}`, 'GET', {})
      expect(res.status, path).toBe(400)
      expect(res.body.error.name).toBe('InvalidRequestError')
    }
    expect(await refused(node, 'bad_url')).toBeGreaterThanOrEqual(5)
    expect((await getJson(`${node.apiUrl}/federated/runs`)).runs).toBeDefined()
  })

  it('bounds concurrent large bodies: refuses beyond the budget with 503 and keeps serving', async () => {
    // 11 MiB of JSON each, as in the report; the default budget (32 MiB) holds two of them.
    const big = Buffer.from(JSON.stringify({ model: 'sha256-' + '0'.repeat(64), inputs: [{ shape: [1, 1], dtype: 'float32', data: [0] }], pad: 'x'.repeat(11 * 1024 * 1024) }))
    const pending: Array<{ req: ClientRequest, answer: Promise<Answer>, answered?: Answer }> = []
    for (let i = 0; i < 8; i++) {
      let req!: ClientRequest
      const answer = new Promise<Answer>((resolve, reject) => {
        req = request(`${node.apiUrl}/infer`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': big.length } }, res => {
          res.resume()
          res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: undefined }) })
        })
        req.on('error', reject)
      })
      req.flushHeaders()
      const entry: (typeof pending)[number] = { req, answer }
      void answer.then(a => { entry.answered = a }, () => {})
      pending.push(entry)
    }
    // The node answers the requests it cannot hold at once before their bodies arrive; the two it holds wait for theirs.
    await waitFor('six refusals', () => pending.filter(p => p.answered != null).length >= 6)
    const busy = pending.filter(p => p.answered != null).map(p => p.answered as Answer)
    expect(busy.map(a => a.status)).toEqual([503, 503, 503, 503, 503, 503])
    expect(busy[0].headers['retry-after']).toBe('1')
    // While two 11 MiB uploads are held, an honest request still fits and is served.
    expect((await inferVia(node, { model: MNIST_MODEL_ID, inputs: [digit], prefer: 'local' })).status).toBe(200)
    expect(await refused(node, 'busy')).toBeGreaterThanOrEqual(6)
    // The held ones complete normally once their bodies arrive (an unknown model: 404), and the budget is given back.
    const held = pending.filter(p => p.answered == null)
    expect(held).toHaveLength(2)
    for (const p of held) p.req.end(big)
    for (const p of held) expect((await p.answer).status).toBe(404)
    for (const p of pending) p.req.destroy()
    expect(await metric(node, 'edge_mesh_api_body_bytes_in_flight')).toBe(0)
    expect(node.child.exitCode).toBeNull()
  })
})

describe('an API token', () => {
  const cluster = new TestCluster()
  let node: NodeProcess
  const token = 'test-token-0123456789abcdef'
  let file: string

  beforeAll(async () => {
    file = join(await cluster.dir(), 'api.token')
    await writeFile(file, `${token}\n`, { mode: 0o600 })
    node = await cluster.start('api-token', ['--api-token-file', file])
  })
  afterAll(async () => { await cluster.cleanup() })

  it('refuses requests without the token or with a wrong one, and serves the right one', async () => {
    const missing = await send(`${node.apiUrl}/status`, 'GET', {})
    expect(missing.status).toBe(401)
    expect(missing.body.error.name).toBe('UnauthorizedError')
    expect(missing.headers['www-authenticate']).toContain('Bearer')
    const wrong = await send(`${node.apiUrl}/status`, 'GET', { authorization: 'Bearer test-token-0123456789abcdeX' })
    expect(wrong.status).toBe(401)
    const post = await send(`${node.apiUrl}/federated/runs`, 'POST', { 'content-type': 'application/json' }, '{}')
    expect(post.status).toBe(401)
    expect((await send(`${node.apiUrl}/status`, 'GET', { authorization: `Bearer ${token}` })).status).toBe(200)
    // The dashboard's EventSource cannot set headers: GET takes RFC 6750's access_token parameter.
    expect((await send(`${node.apiUrl}/metrics?access_token=${token}`, 'GET', {})).status).toBe(200)
    expect((await send(`${node.apiUrl}/metrics?access_token=wrong-token-0123456789`, 'GET', {})).status).toBe(401)
    // Health checks and the dashboard's static files need none.
    expect((await send(`${node.apiUrl}/health`, 'GET', {})).status).toBe(200)
    expect((await send(`${node.apiUrl}/`, 'GET', {})).status).toBe(200)
    expect(await metric({ apiUrl: node.apiUrl, apiToken: token }, 'edge_mesh_api_requests_refused_total{reason="token"}')).toBeGreaterThanOrEqual(4)
  })

  it('is sent by the CLI from EDGE_MESH_API_TOKEN or --api-token-file; without it the CLI exits with 6', () => {
    const cli = (args: string[], env: Record<string, string | undefined>): { status: number | null, stdout: string, stderr: string } =>
      spawnSync(process.execPath, [BIN_PATH, 'status', '--api', node.apiUrl, ...args], { encoding: 'utf8', env: { ...process.env, EDGE_MESH_API_TOKEN: undefined, ...env } })
    const none = cli([], {})
    expect(none.status).toBe(6)
    expect(none.stderr).toContain('UnauthorizedError')
    expect(cli([], { EDGE_MESH_API_TOKEN: token }).status).toBe(0)
    expect(cli(['--api-token-file', file], {}).status).toBe(0)
  })
})
