/**
 * edge-mesh as a dependency: `npm pack` this repository, install the tarball
 * into a fresh project and run the README's "Use from code" example there,
 * unchanged, as a user would. Also imports every entry point of the
 * `exports` map from the installed package.
 *
 * npm installs from its cache when it can (`--prefer-offline`); the optional
 * native TF.js binding is left out (`--omit=optional`), so the example runs
 * on the wasm backend and nothing is downloaded at install time.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../fixtures/index.js'

const pkg = JSON.parse(readFileSync('package.json', 'utf8'))

/** The first ```js block after the "## Use from code" heading of the README. */
function readmeExample (): string {
  const readme = readFileSync('README.md', 'utf8')
  const section = readme.slice(readme.indexOf('## Use from code'))
  const match = /```js\n([\s\S]*?)```/.exec(section)
  if (match == null) throw new Error('README has no ```js block under "## Use from code"')
  return match[1]
}

function npm (args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 })
}

describe('the packed package', () => {
  let dir: string
  let project: string

  beforeAll(async () => {
    dir = await tempDir('edge-mesh-pack-')
    const [{ filename }] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir], process.cwd()))
    project = join(dir, 'app')
    await mkdir(project)
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
    npm(['install', join(dir, filename), '--omit=optional', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], project)
  }, 600_000)

  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('has built files behind main, types, bin and every exports entry', () => {
    const installed = join(project, 'node_modules', 'edge-mesh')
    const targets = [pkg.main, pkg.types, pkg.bin['edge-mesh']]
    for (const entry of Object.values<any>(pkg.exports)) {
      if (typeof entry === 'string') targets.push(entry)
      else targets.push(entry.types, entry.import)
    }
    expect(targets.filter(t => !existsSync(join(installed, t)))).toEqual([])
  })

  it('imports every entry point of the exports map', () => {
    const subpaths = Object.keys(pkg.exports).filter(k => k !== './package.json').map(k => k.replace(/^\./, 'edge-mesh'))
    const script = `for (const p of ${JSON.stringify(subpaths)}) { const m = await import(p); if (Object.keys(m).length === 0) throw new Error(p + ' exports nothing') }\nconsole.log('ok')`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project, encoding: 'utf8', timeout: 120_000 })
    expect(r.stderr).toBe('')
    expect(r.stdout.trim()).toBe('ok')
  })

  it('type-checks the README example against the installed package\'s types', async () => {
    await writeFile(join(project, 'typed.mjs'), readmeExample())
    const tsc = join(process.cwd(), 'node_modules', 'typescript', 'bin', 'tsc')
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '--allowJs', '--checkJs', '--strict', '--skipLibCheck', '--module', 'nodenext',
      '--moduleResolution', 'nodenext', '--target', 'es2023', '--lib', 'es2023,dom', 'typed.mjs'], { cwd: project, encoding: 'utf8', timeout: 120_000 })
    expect(r.stdout + r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  it('runs the README "Use from code" example unchanged', async () => {
    await writeFile(join(project, 'example.mjs'), readmeExample())
    const r = spawnSync(process.execPath, ['example.mjs'], { cwd: project, encoding: 'utf8', timeout: 120_000 })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^inference:completed in [\d.]+ ms$/m)
    expect(r.stdout).toMatch(/^served by a: shape \[1,10\]$/m)
  })
})
