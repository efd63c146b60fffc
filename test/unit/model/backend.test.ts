import * as tf from '@tensorflow/tfjs'
import { afterEach, describe, expect, it } from 'vitest'
import { activeBackend, BACKEND_ENV_VAR, createModelRuntime, isBackendName, selectBackend } from '../../../src/model/index.js'

describe('model backend', () => {
  const saved = process.env[BACKEND_ENV_VAR]
  afterEach(() => {
    if (saved == null) delete process.env[BACKEND_ENV_VAR]
    else process.env[BACKEND_ENV_VAR] = saved
  })

  it('reports one of the three backends and computes on it', async () => {
    const runtime = await createModelRuntime()
    expect(['tensorflow', 'wasm', 'cpu']).toContain(runtime.backend)
    expect(tf.getBackend()).toBe(runtime.backend)
    expect(activeBackend()).toBe(runtime.backend)
    const product = tf.matMul(tf.tensor2d([[2, 0], [0, 2]]), tf.tensor2d([[1], [3]]))
    expect(Array.from(await product.data())).toEqual([2, 6])
    product.dispose()
  })

  it('is idempotent', async () => {
    const first = await selectBackend()
    await expect(selectBackend('auto')).resolves.toBe(first)
    await expect(selectBackend(first)).resolves.toBe(first)
  })

  it('refuses to switch to another backend once chosen', async () => {
    const first = await selectBackend()
    const other = first === 'cpu' ? 'wasm' : 'cpu'
    await expect(selectBackend(other)).rejects.toHaveProperty('name', 'InvalidConfigError')
  })

  it('rejects an unknown EDGE_MESH_BACKEND value', async () => {
    process.env[BACKEND_ENV_VAR] = 'gpu'
    await expect(selectBackend()).rejects.toHaveProperty('name', 'InvalidConfigError')
  })

  it('knows the backend names', () => {
    expect(isBackendName('wasm')).toBe(true)
    expect(isBackendName('webgl')).toBe(false)
  })
})
