/** `edge-mesh keygen --out mesh.key`: write a new private-mesh key. */
import { writeMeshKey } from '../../trust/mesh-key.js'
import { parseFlags } from '../args.js'
import { UsageError } from '../errors.js'

export const KEYGEN_HELP = `Usage: edge-mesh keygen --out <file> [--force]
Write a new mesh key. Nodes started with --mesh-key <file> form a private mesh:
a node without the key, or with another key, cannot connect at all.
Copy the file to every member over a channel you trust.
  --out <file>   where to write the key (mode 0600)
  --force        replace an existing file`

export async function runKeygen (argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, { out: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } })
  if (values.help === true) { process.stdout.write(KEYGEN_HELP + '\n'); return }
  if (values.out == null) throw new UsageError('keygen needs --out <file>')
  await writeMeshKey(values.out, values.force === true)
  process.stdout.write(`wrote mesh key to ${values.out as string}; start members with --mesh-key ${values.out as string}\n`)
}
