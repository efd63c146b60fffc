/**
 * Preloaded (`node --expose-gc --import .../gc-probe.js`) into the serving
 * process of the memory phase, never into a node outside the benchmark: on
 * SIGUSR2 it runs a full garbage collection and writes the process's memory
 * right after it (`process.memoryUsage()`, bytes, with a sequence number) as
 * JSON to the file named by `EDGE_MESH_BENCH_GC_FILE`. A reading after a
 * forced collection tells memory still referenced (a leak) from garbage not
 * yet collected and from the allocator's high-water mark, which RSS alone mixes.
 */
import { writeFileSync } from 'node:fs'

const file = process.env.EDGE_MESH_BENCH_GC_FILE
const gc = (globalThis as { gc?: () => void }).gc
let seq = 0

if (file != null && gc != null) {
  process.on('SIGUSR2', () => {
    // Twice: objects freed by the first collection's finalizers go in the second.
    gc()
    gc()
    writeFileSync(file, JSON.stringify({ seq: ++seq, ...process.memoryUsage() }))
  })
}
