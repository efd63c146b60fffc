/**
 * Federated runs: `POST /federated/runs` starts one (202 `{ id, coordinator }`),
 * `GET /federated/runs` lists the runs this node knows (its own and those
 * gossiped by coordinators), `GET /federated/runs/:id` is one RunSummary
 * (404 RunNotFoundError). Bodies are validated by the service's run-spec
 * parser: a bad field is a 400 InvalidConfigError naming it.
 */
import { RunNotFoundError } from '../../errors.js'
import { optionalComponent } from '../../optional-component.js'
import { parseRunSpec } from '../../federated/mesh/runs.js'
import { readJsonBody } from '../body.js'
import { RouteNotFoundError, sendJson } from '../errors.js'
import type { Federated } from '../../federated/mesh/service.js'
import type { ControlApiComponents, Route } from '../index.js'

function service (components: ControlApiComponents): Federated {
  const federated = optionalComponent<ControlApiComponents['federated']>(components, 'federated')
  if (federated == null) throw new RouteNotFoundError('this node does not run the federated service')
  return federated
}

export function federatedRoutes (components: ControlApiComponents, maxBodyBytes: number): Route[] {
  return [
    {
      method: 'POST',
      path: '/federated/runs',
      handle: async (req, res) => {
        const federated = service(components)
        const body = await readJsonBody(req, Math.min(maxBodyBytes, 64 * 1024))
        const started = await federated.startRun(parseRunSpec(body))
        sendJson(res, 202, started)
      }
    },
    {
      method: 'GET',
      path: '/federated/runs',
      handle: (_req, res) => { sendJson(res, 200, { runs: service(components).runs() }) }
    },
    {
      method: 'GET',
      path: '/federated/runs/*',
      handle: (_req, res, { rest }) => {
        const id = decodeURIComponent(rest)
        const run = service(components).run(id)
        if (run === undefined) throw new RunNotFoundError(`no federated run ${id} is known to this node`)
        sendJson(res, 200, run)
      }
    }
  ]
}
