// Copy the static files the compiled code serves (the dashboard's HTML, JS
// and CSS) next to it in dist/. Run by `npm run build` after tsc.
import { cpSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const ASSET_DIRS = ['src/api/dashboard']

for (const dir of ASSET_DIRS) {
  const from = `${root}${dir}`
  if (!existsSync(from)) throw new Error(`copy-assets: ${from} is missing`)
  cpSync(from, `${root}dist/${dir}`, { recursive: true })
}
