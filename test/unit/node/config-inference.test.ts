import { describe, expect, it } from 'vitest'
import { fromFlags } from '../../../src/cli/node-flags.js'
import { parseByteSize, resolveConfig } from '../../../src/node/config.js'

describe('inference settings of a node', () => {
  it('has documented defaults: 512 MiB and 8 models, 1 % spot checks, offload to any peer', () => {
    expect(resolveConfig({})).toMatchObject({ modelMemory: 512 * 1024 * 1024, maxModels: 8, spotCheck: 0.01, offloadTo: 'any', trust: [] })
  })

  it('reads sizes with units', () => {
    expect(parseByteSize('modelMemory', '512MiB')).toBe(512 * 1024 * 1024)
    expect(parseByteSize('modelMemory', '1.5GiB')).toBe(1.5 * 1024 ** 3)
    expect(parseByteSize('modelMemory', '800MB')).toBe(800e6)
    expect(parseByteSize('modelMemory', 4096)).toBe(4096)
    for (const bad of ['lots', '-1MiB', '12 parsecs', 0, '']) {
      expect(() => parseByteSize('modelMemory', bad)).toThrow(expect.objectContaining({ name: 'InvalidConfigError' }))
    }
  })

  it('takes the flags and refuses bad values with the setting named', () => {
    const config = resolveConfig(fromFlags({ 'model-memory': '64MiB', 'max-models': '3', 'spot-check': '0.1', 'offload-to': 'trusted' }))
    expect(config).toMatchObject({ modelMemory: 64 * 1024 * 1024, maxModels: 3, spotCheck: 0.1, offloadTo: 'trusted' })
    expect(() => resolveConfig({ offloadTo: 'friends' })).toThrow(/offloadTo/)
    expect(() => resolveConfig({ spotCheck: 2 })).toThrow(/spotCheck/)
    expect(() => resolveConfig({ trust: ['not-a-peer-id'] })).toThrow(/trust/)
  })
})
