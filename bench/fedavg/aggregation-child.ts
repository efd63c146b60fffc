/**
 * The aggregation measurement in a fresh process that imports nothing but
 * the aggregation code (no libp2p, no TensorFlow.js), so no ArrayBuffer has
 * ever been detached in it; see `aggregation.ts`. Prints the figures as one
 * JSON line on stdout.
 *
 * Usage: node dist/bench/fedavg/aggregation-child.js
 */
import { measureAggregationHere } from './aggregation.js'

process.stdout.write(JSON.stringify(measureAggregationHere(() => {})) + '\n')
