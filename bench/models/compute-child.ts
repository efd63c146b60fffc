/**
 * A child of the `ceiling` phase (`ceiling.ts`): loads the benchmark model
 * straight into a model runtime (no libp2p, no offload), runs `WARMUP`
 * predictions, prints `ready`, waits for a line on stdin (and exits if stdin
 * closes first), then runs `count` predictions back to back and prints
 * `{"msPerInference": ...}`. Pure compute,
 * so that two of them at once show what two cores give this model when
 * nothing else runs.
 *
 * Usage: node dist/bench/models/compute-child.js <count> <packaged model name>
 */
import { once } from 'node:events'
import { createModelRuntime } from '../../src/model/index.js'
import { WARMUP } from './constants.js'
import { benchInputs } from './inputs.js'

const count = Number(process.argv[2] ?? 100)
const runtime = await createModelRuntime({ modelDirs: [process.argv[3] ?? 'human:movenet-lightning'] })
const info = runtime.list()[0]
const inputs = benchInputs(info)
for (let i = 0; i < WARMUP; i++) await runtime.predict(info.id, inputs)
process.stdout.write('ready\n')
// Go on a line; a parent that went away (stdin closed) ends the child instead of leaving it waiting.
await Promise.race([once(process.stdin, 'data'), once(process.stdin, 'end').then(() => process.exit(1))])
const started = performance.now()
for (let i = 0; i < count; i++) await runtime.predict(info.id, inputs)
process.stdout.write(`${JSON.stringify({ msPerInference: (performance.now() - started) / count })}\n`)
process.exit(0)
