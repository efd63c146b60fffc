import { describe, expect, it } from 'vitest'
import { formatSignature, modelStatus } from '../../../src/api/model-status.js'
import { renderStatus } from '../../../src/cli/commands/status.js'
import type { NodeStatus } from '../../../src/api/status.js'

describe('model status', () => {
  const movenet = {
    id: 'sha256-' + 'a'.repeat(64),
    name: 'human:movenet-lightning',
    inputShapes: [[1, 192, 192, 3]],
    outputShapes: [[1, 1, 17, 3]],
    parameters: 2325002,
    sizeBytes: 9448633,
    format: 'graph-model' as const,
    inputs: [{ name: 'input', dtype: 'int32' as const, shape: [1, 192, 192, 3] }],
    fixedBatch: true,
    execution: 'sync' as const,
    timing: { calls: 12, p50Ms: 33.8, p50MsPerRow: 33.8 }
  }

  it('describes format, signature, batching and measured time; older infos read as layers models', () => {
    expect(modelStatus(movenet)).toEqual({
      id: movenet.id, name: movenet.name, parameters: movenet.parameters, format: 'graph-model',
      inputs: movenet.inputs, microBatching: false, execution: 'sync', timing: movenet.timing
    })
    const old = modelStatus({ id: 'sha256-b', name: 'mlp', inputShapes: [[-1, 784]], outputShapes: [[-1, 10]], parameters: 1, sizeBytes: 1 })
    expect(old).toEqual({ id: 'sha256-b', name: 'mlp', parameters: 1, format: 'layers-model', inputs: [{ name: 'input_0', dtype: 'float32', shape: [-1, 784] }], microBatching: true })
    expect(modelStatus(old, 4)).toMatchObject({ microBatching: true, batchRows: 4 })
    expect(formatSignature(movenet.inputs)).toBe('int32[1,192,192,3]')
    expect(formatSignature(old.inputs)).toBe('float32[n,784]')
  })

  it('edge-mesh status prints one row per model', () => {
    const status = {
      name: 'edge', role: 'edge', peerId: '12D3KooWabc', backend: 'wasm', uptimeMs: 1000, connections: 0, addresses: [],
      models: [modelStatus(movenet)], peers: []
    } as unknown as NodeStatus
    const text = renderStatus(status)
    expect(text).toMatch(/human:movenet-lightning .* graph-model .* int32\[1,192,192,3\] .* fixed batch, none .* 33\.8 ms/)
    const mobilenet = modelStatus({ ...movenet, name: 'nsfwjs:mobilenet_v2', format: 'layers-model', fixedBatch: false }, 1)
    expect(renderStatus({ ...status, models: [mobilenet] })).toMatch(/nsfwjs:mobilenet_v2 .* micro-batched, <= 1 rows/)
  })
})
