/** `experiment mnist` spells update compression as `train` and the README do (`--compress`), and keeps `--compression`. */
import { describe, expect, it } from 'vitest'
import { parseExperimentArgs } from '../../../src/cli/commands/experiment.js'

describe('experiment arguments', () => {
  it('take --compress like train, and --compression as before', () => {
    expect(parseExperimentArgs(['mnist', '--compress', 'int8'])?.compression).toBe('int8')
    expect(parseExperimentArgs(['mnist', '--compression', 'topk:0.01'])?.compression).toBe('topk:0.01')
    expect(parseExperimentArgs(['mnist', '--compress', 'int8', '--compression', 'int8'])?.compression).toBe('int8')
    expect(parseExperimentArgs(['mnist'])?.compression).toBeUndefined()
  })

  it('refuse --compress and --compression that disagree', () => {
    expect(() => parseExperimentArgs(['mnist', '--compress', 'int8', '--compression', 'topk:0.01'])).toThrow(/disagree/)
  })
})

describe('experiment --secagg', () => {
  it('takes --secagg-threshold and --secagg-neighbours as train does, into the run spec', async () => {
    const { runSpec } = await import('../../../src/cli/commands/experiment-mesh.js')
    const o = parseExperimentArgs(['mnist', '--mode', 'mesh', '--nodes', '3', '--secagg', '--secagg-threshold', '2', '--secagg-neighbours', '3'])
    expect(o?.secureAggregation).toEqual({ threshold: 2, neighbours: 3 })
    expect(runSpec(o as NonNullable<typeof o>, 'fedavg').secureAggregation).toEqual({ threshold: 2, neighbours: 3 })
    expect(parseExperimentArgs(['mnist', '--secagg'])?.secureAggregation).toEqual({})
  })

  it('keeps the coordinator free of clients in mesh mode (they would be aggregated in the clear)', () => {
    expect(parseExperimentArgs(['mnist', '--mode', 'mesh', '--secagg'])?.coordinatorOnly).toBe(true)
    expect(parseExperimentArgs(['mnist', '--mode', 'mesh'])?.coordinatorOnly).toBe(false)
    expect(() => parseExperimentArgs(['mnist', '--mode', 'mesh', '--nodes', '1', '--secagg'])).toThrow(/--nodes 2/)
  })

  it('refuses the secagg settings without --secagg', () => {
    expect(() => parseExperimentArgs(['mnist', '--secagg-threshold', '2'])).toThrow(/need --secagg/)
  })
})
