/**
 * Update compression on IID MNIST: float32 vs int8 vs top-k 1 % with error
 * feedback (plain, DGC, and for partial participation: averaging over senders
 * and the stale-residual discount) at equal rounds, 100 clients in simulate mode, the
 * median over seeds (`--seed 0,1,2`).
 *
 *   npx tsc -p . && npx node dist/examples/privacy/compression-table.js [--rounds 20] [--seed 0,1,2]
 *
 * Prints JSON: final accuracies, uplink bytes, and the ratios against float32.
 */
import { parseArgs } from 'node:util'
import { measureCompression } from '../../bench/privacy/compression.js'
import { createModelRuntime } from '../../src/model/index.js'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' }, seed: { type: 'string', default: '0' } } })
const runtime = await createModelRuntime()
const result = await measureCompression(runtime, Number(values.rounds), values.seed.split(',').map(Number), (line) => process.stderr.write(line + '\n'))
process.stdout.write(JSON.stringify(result, null, 2) + '\n')
