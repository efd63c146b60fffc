/**
 * `GET /` serves the live mesh dashboard and `GET /dashboard/<file>` its
 * assets (plain HTML, JS and CSS in `src/api/dashboard/`). Everything the page
 * loads comes from the node itself, so it works with no internet; a
 * Content-Security-Policy keeps it that way.
 *
 * The build copies the assets next to the compiled code
 * (`scripts/copy-assets.mjs`); when they are missing there (a plain `tsc`
 * build) the source folder is used instead.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { RouteNotFoundError } from '../errors.js'
import type { Route } from '../index.js'
import type { ServerResponse } from 'node:http'

/** Asset folders to try, relative to this file: next to the code, then the sources (from `dist/src/api/routes`). */
const ASSET_DIRS = ['../dashboard/', '../../../../src/api/dashboard/']

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml'
}

/** Only plain file names with a known extension: no folders, no `..`. */
const ASSET_NAME = /^[a-z0-9][a-z0-9-]*\.(html|js|css|svg)$/

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/** The folder holding the dashboard's assets, or undefined when none is found. */
export function dashboardDir (): string | undefined {
  return ASSET_DIRS
    .map(relative => fileURLToPath(new URL(relative, import.meta.url)))
    .find(dir => existsSync(`${dir}index.html`))
}

async function sendAsset (res: ServerResponse, dir: string | undefined, name: string, cache: Map<string, Buffer>): Promise<void> {
  const match = ASSET_NAME.exec(name)
  if (dir == null || match == null) throw new RouteNotFoundError(`no dashboard asset ${name}`)
  let body = cache.get(name)
  if (body == null) {
    try {
      body = await readFile(`${dir}${name}`)
    } catch {
      throw new RouteNotFoundError(`no dashboard asset ${name}`)
    }
    cache.set(name, body)
  }
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[match[1]],
    'content-length': body.byteLength,
    'cache-control': 'no-cache',
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff'
  })
  res.end(body)
}

export function dashboardRoutes (): Route[] {
  const dir = dashboardDir()
  const cache = new Map<string, Buffer>()
  return [
    { method: 'GET', path: '/', public: true, handle: async (_req, res) => { await sendAsset(res, dir, 'index.html', cache) } },
    { method: 'GET', path: '/dashboard/*', public: true, handle: async (_req, res, { rest }) => { await sendAsset(res, dir, rest, cache) } }
  ]
}
