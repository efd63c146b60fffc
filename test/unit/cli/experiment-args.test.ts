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
