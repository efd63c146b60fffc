/** The `edge-mesh` command: dispatch to subcommands, map every failure to a one-line message. */
import { UsageError, exitWithError } from './errors.js'
import { DEMO_HELP, runDemo } from './commands/demo.js'
import { SEED_HELP, START_HELP, runNode } from './commands/start.js'
import { INFER_HELP, runInfer } from './commands/infer.js'
import { KEYGEN_HELP, runKeygen } from './commands/keygen.js'
import { STATUS_HELP, runStatus } from './commands/status.js'
import { TRAIN_HELP, runTrain } from './commands/train.js'
import { EXPERIMENT_HELP, runExperiment } from './commands/experiment.js'

interface Command {
  summary: string
  help: string
  run(argv: string[]): Promise<void>
}

const COMMANDS: Record<string, Command> = {
  start: { summary: 'start an edge node', help: START_HELP, run: async argv => { await runNode(argv, 'edge') } },
  seed: { summary: 'start an always-on seed node (bootstrap, relay, coordinator)', help: SEED_HELP, run: async argv => { await runNode(argv, 'seed') } },
  status: { summary: 'show a node, its peers and their load', help: STATUS_HELP, run: runStatus },
  demo: { summary: 'start a laptop cluster of N nodes on this machine', help: DEMO_HELP, run: runDemo },
  infer: { summary: 'run an inference on the mesh through a node', help: INFER_HELP, run: runInfer },
  train: { summary: 'start a federated run on the mesh and follow it (train status: list runs; train stop: cancel one)', help: TRAIN_HELP, run: runTrain },
  experiment: { summary: 'MNIST federated experiment, simulated or on local node processes', help: EXPERIMENT_HELP, run: runExperiment },
  keygen: { summary: 'write a key for a private mesh', help: KEYGEN_HELP, run: runKeygen }
}

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
    'Run edge-mesh <command> --help for the options of a command.'
  ].join('\n')
}

export async function main (argv: string[]): Promise<void> {
  const [name, ...rest] = argv
  if (name == null || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n')
    return
  }
  if (name === '--version') {
    process.stdout.write('edge-mesh 0.1.0\n')
    return
  }
  const command = COMMANDS[name]
  if (command == null) throw new UsageError(`unknown command "${name}"`)
  await command.run(rest)
}

main(process.argv.slice(2)).catch(exitWithError)
