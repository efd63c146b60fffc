/** Run files on disk: an unreadable run is reported (without its content), not dropped. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { publicError } from '../../../src/federated/mesh/coordinator.js'
import { newRunId } from '../../../src/federated/mesh/run-id.js'
import { RunFiles } from '../../../src/federated/mesh/runs.js'

describe('run files', () => {
  let root = ''
  afterEach(async () => { await rm(root, { recursive: true, force: true }) })

  it('report a run whose summary.json or run.json does not parse, quoting none of it', async () => {
    root = await mkdtemp(join(tmpdir(), 'edge-mesh-runs-'))
    const files = new RunFiles(root)
    const good = newRunId('peer-a')
    const torn = newRunId('peer-a')
    const junk = newRunId('peer-a')
    for (const id of [good, torn]) {
      await files.create({ version: 1, id, spec: { rounds: 2, strategy: 'fedavg' }, coordinator: 'peer-a', startedAt: 1, baseModelId: 'sha256-x' })
    }
    await writeFile(join(root, torn, 'summary.json'), '{"id": "SECRET-CONTENT')
    await mkdir(join(root, junk))
    await writeFile(join(root, junk, 'run.json'), 'SECRET-CONTENT')
    const scanned = await files.scan()
    const byId = new Map(scanned.map((r) => [r.id, r]))
    expect(byId.get(good)?.record?.id).toBe(good)
    expect(byId.get(good)?.problem).toBeUndefined()
    expect(byId.get(torn)).toMatchObject({ record: { id: torn }, problem: 'summary.json is not valid JSON' })
    expect(byId.get(junk)).toMatchObject({ problem: 'run.json is not valid JSON' })
    expect(JSON.stringify(scanned.map(({ cause, ...rest }) => rest))).not.toContain('SECRET')
  })

  it('publish only error messages that cannot quote local files', () => {
    expect(publicError(Object.assign(new Error('data.csv line 1: feature 1 "SECRET" is not a number'), { name: 'InvalidConfigError' })).message).not.toContain('SECRET')
    expect(publicError(Object.assign(new Error('round 1 got 0 of 2 updates'), { name: 'RoundAbortedError' })).message).toContain('round 1')
  })
})
