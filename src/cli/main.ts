/**
 * The `edge-mesh` command: dispatch to subcommands, map every failure to a one-line message.
 *
 * Commands are loaded with dynamic `import()` when they run, and each command
 * loads libp2p and TF.js itself only when it needs them, so `--version`,
 * `--help`, `help <command>`, `keygen` and `status` start fast and small.
 */
import { UsageError, exitWithError } from './errors.js'
import { closest } from './suggest.js'

/** What a command module gives the dispatcher. */
interface LoadedCommand {
  help: string
  run(argv: string[]): Promise<void>
}

interface Command {
  summary: string
  load(): Promise<LoadedCommand>
}

const COMMANDS: Record<string, Command> = {
  start: {
    summary: 'start an edge node',
    load: async () => { const m = await import('./commands/start.js'); return { help: m.START_HELP, run: async argv => { await m.runNode(argv, 'edge') } } }
  },
  seed: {
    summary: 'start an always-on seed node (bootstrap, relay, coordinator)',
    load: async () => { const m = await import('./commands/start.js'); return { help: m.SEED_HELP, run: async argv => { await m.runNode(argv, 'seed') } } }
  },
  status: {
    summary: 'show a node, its peers and their load',
    load: async () => { const m = await import('./commands/status.js'); return { help: m.STATUS_HELP, run: m.runStatus } }
  },
  demo: {
    summary: 'start a laptop cluster of N nodes on this machine',
    load: async () => { const m = await import('./commands/demo.js'); return { help: m.DEMO_HELP, run: m.runDemo } }
  },
  infer: {
    summary: 'run an inference on the mesh through a node',
    load: async () => { const m = await import('./commands/infer.js'); return { help: m.INFER_HELP, run: m.runInfer } }
  },
  train: {
    summary: 'start a federated run on the mesh and follow it (train status: list runs; train stop: cancel one)',
    load: async () => { const m = await import('./commands/train.js'); return { help: m.TRAIN_HELP, run: m.runTrain } }
  },
  experiment: {
    summary: 'MNIST federated experiment, simulated or on local node processes',
    load: async () => { const m = await import('./commands/experiment.js'); return { help: m.EXPERIMENT_HELP, run: m.runExperiment } }
  },
  keygen: {
    summary: 'write a key for a private mesh',
    load: async () => { const m = await import('./commands/keygen.js'); return { help: m.KEYGEN_HELP, run: m.runKeygen } }
  }
}

export const VERSION = '0.1.0'

export function usage (): string {
  const width = Math.max(...Object.keys(COMMANDS).map(c => c.length))
  return [
    'Usage: edge-mesh <command> [options]',
    '',
    'edge-mesh: a peer-to-peer federated edge mesh. Nodes discover each other over libp2p,',
    'gossip their load, offload TensorFlow.js inference to idle peers and train models by',
    'federated averaging, with no server required.',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run edge-mesh <command> --help (or edge-mesh help <command>) for the options of a command.',
    'Environment: EDGE_MESH_<SETTING> for node settings (see edge-mesh start --help),',
    '  EDGE_MESH_BACKEND=tensorflow|wasm|cpu forces the TF.js backend, EDGE_MESH_DEBUG=1 prints stack traces.'
  ].join('\n')
}

/** The command called `name`, or a UsageError that suggests the closest one. */
function commandNamed (name: string): Command {
  const command = COMMANDS[name]
  if (command != null) return command
  const best = closest(name, Object.keys(COMMANDS))
  throw new UsageError(`unknown command "${name}"${best == null ? '' : ` (did you mean "${best}"?)`}`)
}

export async function main (argv: string[]): Promise<void> {
  const [name, ...rest] = argv
  if (name === 'help' && rest[0] != null && rest[0] !== '--help' && rest[0] !== '-h') {
    process.stdout.write((await commandNamed(rest[0]).load()).help + '\n')
    return
  }
  if (name == null || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n')
    return
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`edge-mesh ${VERSION}\n`)
    return
  }
  const command = commandNamed(name)
  await (await command.load()).run(rest)
}

// A failure nothing caught (an error event without a listener) is one line too, not a stack trace.
process.on('uncaughtException', exitWithError)
main(process.argv.slice(2)).catch(exitWithError)
