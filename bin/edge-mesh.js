#!/usr/bin/env node
// edge-mesh command-line entry point. libp2p 3 needs Node 22 or newer: npm
// scripts and npx use the project's own Node 22 (devDependency "node").
const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  process.stderr.write(`edge-mesh: Node ${process.versions.node} is too old; edge-mesh needs Node 22 or newer.\n` +
    'Run it through npm so the project\'s own Node 22 is used: npx edge-mesh <command> (or npm start).\n')
  process.exit(2)
}
await import('../dist/src/cli/main.js')
