/** `edge-mesh infer`: ask a node to run an inference on the mesh. */
import { readFile } from 'node:fs/promises'
import { intFlag, parseFlags } from '../args.js'
import { API_TOKEN_HELP, DEFAULT_API_URL, apiToken, callApi } from '../api-client.js'
import { UsageError } from '../errors.js'
import { printable, shortId } from '../output.js'

export const INFER_HELP = `Usage: edge-mesh infer --model <id|name> --input <file.json> [options]
Run an inference through a node: it decides whether to run it itself or on an idle peer.
  --model <id|name>          model content id, or a model's name when only one model in the mesh
                             has it (both listed by edge-mesh status)
  --input <file.json>        the inputs: a tensor {"shape","dtype","data"}, a list of them,
                             or a request {"inputs": [...]} (example: examples/inputs/mnist-digit-7.json)
  --prefer auto|local|remote where to run it (auto)
  --deadline <ms>            time budget including retries (5000)
  --api <url>                control API of the node to ask (${DEFAULT_API_URL})
  --json                     print the raw JSON response
${API_TOKEN_HELP}`

function inputsFrom (parsed: any): unknown[] {
  if (Array.isArray(parsed)) return parsed
  if (Array.isArray(parsed?.inputs)) return parsed.inputs
  if (parsed?.shape != null) return [parsed]
  throw new UsageError('--input must hold a tensor {"shape","dtype","data"}, a list of tensors, or {"inputs": [...]}')
}

/** Per row of a [batch, classes] output: the arg-max class and its score. */
function topClasses (output: { shape: number[], data: number[] }): string {
  const [rows, cols] = output.shape.length === 2 ? output.shape : [1, output.data.length]
  const picks: string[] = []
  for (let r = 0; r < Math.min(rows, 8); r++) {
    const row = output.data.slice(r * cols, (r + 1) * cols)
    const best = row.indexOf(Math.max(...row))
    picks.push(`class ${best} (${row[best].toFixed(3)})`)
  }
  return picks.join(', ') + (rows > 8 ? ` … ${rows - 8} more rows` : '')
}

/** One line per attempt of a failed request: peer, outcome, time, and any further fields. */
export function formatAttempts (attempts: unknown[]): string[] {
  return attempts.map((a: any, i) => {
    if (a == null || typeof a !== 'object') return `  attempt ${i + 1}: ${printable(String(a))}`
    const { peerId, outcome, ms, hedge, ...rest } = a
    const parts = [
      typeof peerId === 'string' ? shortId(peerId) : undefined,
      outcome != null ? printable(String(outcome)) : undefined,
      typeof ms === 'number' ? `${ms.toFixed(1)} ms` : undefined,
      hedge === true ? '(hedge)' : undefined,
      ...Object.entries(rest).map(([k, v]) => printable(`${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`))
    ]
    return `  attempt ${i + 1}: ${parts.filter(p => p != null).join('  ')}`
  })
}

/** The error with the attempts its body lists appended to its message (name and exit code unchanged). */
function withAttempts (err: unknown): unknown {
  const attempts = (err as { attempts?: unknown })?.attempts
  if (!(err instanceof Error) || !Array.isArray(attempts) || attempts.length === 0) return err
  err.message = [`${err.message}; ${attempts.length} attempt(s):`, ...formatAttempts(attempts)].join('\n')
  return err
}

export async function runInfer (argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    model: { type: 'string' }, input: { type: 'string' }, prefer: { type: 'string' }, deadline: { type: 'string' },
    api: { type: 'string' }, json: { type: 'boolean' }, 'api-token-file': { type: 'string' }, help: { type: 'boolean', short: 'h' }
  })
  if (values.help === true) { process.stdout.write(INFER_HELP + '\n'); return }
  if (values.model == null) throw new UsageError('infer needs --model <content id or name>')
  if (values.input == null) throw new UsageError('infer needs --input <file.json>')
  if (values.prefer != null && !['auto', 'local', 'remote'].includes(values.prefer)) throw new UsageError('--prefer must be auto, local or remote')
  let parsed: any
  try {
    parsed = JSON.parse(await readFile(values.input, 'utf8'))
  } catch (err: any) {
    throw new UsageError(`cannot read --input ${values.input as string}: ${err?.code === 'ENOENT' ? 'not found' : 'not valid JSON'}`)
  }
  const body = { model: values.model, inputs: inputsFrom(parsed), prefer: values.prefer ?? 'auto', deadlineMs: intFlag('deadline', values.deadline, 1, 600_000) }
  const result = await callApi(values.api ?? process.env.EDGE_MESH_API ?? DEFAULT_API_URL, '/infer', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body)
  }, apiToken(values['api-token-file'])).catch((err: unknown) => { throw withAttempts(err) })
  if (values.json === true) { process.stdout.write(JSON.stringify(result, null, 2) + '\n'); return }
  const l = result.latencyMs
  process.stdout.write([
    ...(typeof result.model === 'string' && result.model !== values.model ? [`model "${printable(values.model)}" is ${result.model}`] : []),
    `served by ${shortId(result.servedBy)} after ${String(result.attempts)} attempt(s)`,
    `latency ${l.totalMs.toFixed(2)} ms (queue ${l.queueMs.toFixed(2)}, compute ${l.computeMs.toFixed(2)}, network and overhead ${l.overheadMs.toFixed(2)})`,
    ...result.outputs.map((o: any, i: number) => `output ${i}: shape [${o.shape.join(', ')}]  ${topClasses(o)}`)
  ].join('\n') + '\n')
}
