/**
 * A worker thread of the simulation pool (`pool.ts`): runs each
 * `MeshSimInit` it is sent through the deterministic `simulateMesh` and posts
 * back the result with the run's wall time.
 */
import { parentPort } from 'node:worker_threads'
import { simulateMesh } from './mesh.js'
import type { MeshSimInit } from './mesh.js'

parentPort?.on('message', (message: { id: number, init: MeshSimInit }) => {
  const startedAt = performance.now()
  const result = simulateMesh(message.init)
  parentPort?.postMessage({ id: message.id, result, wallS: (performance.now() - startedAt) / 1000 })
})
