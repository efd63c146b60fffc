import { describe, expect, it } from 'vitest'
import { configFromSources, fromEnv, fromFlags } from '../../../src/cli/node-flags.js'
import { parseFlags } from '../../../src/cli/args.js'
import { NODE_FLAGS } from '../../../src/cli/node-flags.js'
import { exitCodeFor, formatError } from '../../../src/cli/errors.js'
import { resolveConfig } from '../../../src/node/config.js'
import { PRESETS } from '../../../src/node/presets.js'

function errorName (fn: () => unknown): string {
  try { fn() } catch (err: any) { return err.name }
  return 'no error'
}

const SEED = '/ip4/10.0.0.1/tcp/4010/p2p/12D3KooWGV9AzNg2DDKQE9Q7x5DceAXEmLgirfUWFpCXhXH23npP'

describe('configuration', () => {
  it('fills documented defaults', () => {
    const c = resolveConfig()
    expect(c).toMatchObject({ role: 'edge', name: 'edge', mdns: true, apiHost: '127.0.0.1', apiPort: 7373, preset: 'lan', reportIntervalMs: 1000, listen: ['/ip4/0.0.0.0/tcp/0'] })
    const seed = resolveConfig({ role: 'seed' })
    expect(seed).toMatchObject({ mdns: false, apiPort: 7374, listen: ['/ip4/0.0.0.0/tcp/4010'] })
  })

  it('takes timings from the preset', () => {
    expect(resolveConfig({ preset: 'local-test' }).reportIntervalMs).toBe(PRESETS['local-test'].reportIntervalMs)
    expect(PRESETS['local-test'].ipColocationPenalty).toBe(false)
    expect(PRESETS.lan.ipColocationPenalty).toBe(true)
  })

  it('names the bad setting', () => {
    expect(errorName(() => resolveConfig({ apiPort: 70000 }))).toBe('InvalidConfigError')
    expect(errorName(() => resolveConfig({ preset: 'fast' }))).toBe('InvalidConfigError')
    expect(errorName(() => resolveConfig({ colour: 'red' } as any))).toBe('InvalidConfigError')
    expect(errorName(() => resolveConfig({ capacity: 0 }))).toBe('InvalidConfigError')
    expect(errorName(() => resolveConfig({ listen: ['not-a-multiaddr'] }))).toBe('InvalidMultiaddrError')
    expect(errorName(() => resolveConfig({ bootstrap: ['/ip4/10.0.0.1/tcp/4010'] }))).toBe('InvalidMultiaddrError')
    try { resolveConfig({ apiPort: 70000 }) } catch (err: any) { expect(err.message).toContain('apiPort') }
  })

  it('lets flags beat environment and environment beat the file', () => {
    const env = { EDGE_MESH_API_PORT: '9000', EDGE_MESH_NAME: 'from-env', EDGE_MESH_BOOTSTRAP: SEED, EDGE_MESH_MDNS: 'false' }
    const { values } = parseFlags(['--api-port', '9100'], NODE_FLAGS)
    const c = configFromSources(values, env, 'edge')
    expect(c.apiPort).toBe(9100)
    expect(c.name).toBe('from-env')
    expect(c.bootstrap).toEqual([SEED])
    expect(c.mdns).toBe(false)
  })

  it('parses flags strictly', () => {
    expect(errorName(() => parseFlags(['--colour', 'red'], NODE_FLAGS))).toBe('UsageError')
    expect(errorName(() => fromFlags({ 'api-port': 'abc' }))).toBe('UsageError')
    expect(parseFlags(['--no-mdns'], NODE_FLAGS).values.mdns).toBe(false)
    expect(errorName(() => fromEnv({ EDGE_MESH_MDNS: 'maybe' }))).toBe('InvalidConfigError')
  })

  it('maps errors to one line and an exit code', () => {
    const err = new Error('x'); err.name = 'PortInUseError'
    expect(exitCodeFor(err)).toBe(3)
    expect(formatError(err)).toBe('edge-mesh: PortInUseError: x')
    expect(formatError(err)).not.toContain('\n')
  })
})
