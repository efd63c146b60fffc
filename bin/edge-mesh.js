#!/usr/bin/env node
// edge-mesh command-line entry point. libp2p 3 needs Node 22 or newer: npm
// scripts and npx use the project's own Node 22 (devDependency "node").
import { fileURLToPath } from 'node:url'

const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  process.stderr.write(`edge-mesh: Node ${process.versions.node} is too old; edge-mesh needs Node 22 or newer.\n` +
    'Run it through npm so the project\'s own Node 22 is used: npx edge-mesh <command> (or npm start).\n')
  process.exit(2)
}
const main = new URL('../dist/src/cli/main.js', import.meta.url)
try {
  await import(main.href)
} catch (err) {
  // A checkout that was never built: say how to build it instead of printing a stack trace.
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err?.message).includes(fileURLToPath(main))) {
    process.stderr.write('edge-mesh: dist/ is missing; build it first with: npm run build\n')
    process.exit(1)
  }
  throw err
}
