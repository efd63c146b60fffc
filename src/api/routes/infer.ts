/** `POST /infer`: run an inference on the mesh through this node; `model` is a content id or a name unique in the mesh. */
import { optionalComponent } from '../../optional-component.js'
import { readJsonBody } from '../body.js'
import { InvalidRequestError, sendJson } from '../errors.js'
import { tensorFromJson, tensorToJson } from '../tensor-json.js'
import type { Offload, Preference } from '../../offload/types.js'
import type { ControlApiComponents, Route } from '../index.js'

type Resolver = NonNullable<ControlApiComponents['modelTransfer']>

const PREFERENCES = new Set(['auto', 'local', 'remote'])

export function inferRoutes (components: ControlApiComponents, maxBodyBytes: number): Route[] {
  return [{
    method: 'POST',
    path: '/infer',
    handle: async (req, res) => {
      const offload = optionalComponent<Offload>(components, 'offload')
      if (offload == null) throw new InvalidRequestError('this node does not run inference offload')
      const body = await readJsonBody(req, maxBodyBytes)
      if (typeof body.model !== 'string' || body.model === '') throw new InvalidRequestError('"model" must be a model content id or name')
      if (!Array.isArray(body.inputs) || body.inputs.length === 0) throw new InvalidRequestError('"inputs" must be a non-empty list of tensors')
      const prefer = body.prefer ?? 'auto'
      if (!PREFERENCES.has(prefer)) throw new InvalidRequestError('"prefer" must be "auto", "local" or "remote"')
      const deadlineMs = body.deadlineMs
      if (deadlineMs != null && (!Number.isFinite(deadlineMs) || deadlineMs <= 0 || deadlineMs > 600_000)) {
        throw new InvalidRequestError('"deadlineMs" must be a number of milliseconds from 1 to 600000')
      }
      const inputs = body.inputs.map(tensorFromJson)
      const controller = new AbortController()
      res.once('close', () => { if (!res.writableFinished) controller.abort() })
      const resolver = optionalComponent<Resolver>(components, 'modelTransfer')
      const modelId = resolver == null ? body.model : await resolver.resolve(body.model, { signal: controller.signal })
      const result = await offload.infer(modelId, inputs, { prefer: prefer as Preference, deadlineMs, signal: controller.signal })
      sendJson(res, 200, {
        model: modelId,
        outputs: result.outputs.map(tensorToJson),
        servedBy: result.servedBy,
        attempts: result.attempts,
        attemptLog: result.attemptLog,
        latencyMs: result.latencyMs,
        ...(result.spotCheck != null ? { spotCheck: result.spotCheck } : {})
      })
    }
  }]
}
