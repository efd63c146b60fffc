/** Reading JSON request bodies with a size limit. */
import { MessageTooLargeError } from '../errors.js'
import { InvalidRequestError } from './errors.js'
import type { IncomingMessage } from 'node:http'

export async function readJsonBody (req: IncomingMessage, maxBytes: number): Promise<any> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > maxBytes) throw new MessageTooLargeError(`request body of ${declared} bytes exceeds ${maxBytes}`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += chunk.length
    if (size > maxBytes) throw new MessageTooLargeError(`request body exceeds ${maxBytes} bytes`)
    chunks.push(chunk)
  }
  if (size === 0) return {}
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new InvalidRequestError('request body is not valid JSON')
  }
}
