/**
 * Private meshes: a pre-shared key (libp2p pnet, the same file format as
 * go-libp2p and IPFS private networks) that every member holds. A node with
 * no key or another key cannot complete a connection handshake. The key also
 * derives the mDNS service tag, so members do not even answer the
 * announcements of other meshes on the same LAN.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { InvalidConfigError } from '../errors.js'

/** First line of a pnet key file. */
export const KEY_HEADER = '/key/swarm/psk/1.0.0/'
/** Size of a key file written by `generateMeshKey`. */
export const KEY_FILE_BYTES = 95

/**
 * A new key file: header, encoding, 32 random bytes in hex (what `@libp2p/pnet`'s
 * `generateKey` writes). Made here so that `edge-mesh keygen` does not load libp2p.
 */
export function generateMeshKey (): Uint8Array {
  return new TextEncoder().encode(`${KEY_HEADER}\n/base16/\n${randomBytes(32).toString('hex')}`)
}

/** Write a new key to `path` (mode 0600); refuses to replace an existing file unless `force`. */
export async function writeMeshKey (path: string, force = false): Promise<void> {
  try {
    await writeFile(path, generateMeshKey(), { mode: 0o600, flag: force ? 'w' : 'wx' })
  } catch (err: any) {
    if (err?.code === 'EEXIST') throw new InvalidConfigError(`${path} already exists; pass --force to replace it (every member then needs the new key)`)
    throw new InvalidConfigError(`cannot write ${path}: ${err?.message}`)
  }
}

/** Read and check a key file. */
export function readMeshKey (path: string): Uint8Array {
  let bytes: Uint8Array
  try {
    bytes = readFileSync(path)
  } catch (err: any) {
    throw new InvalidConfigError(`meshKey: cannot read ${path} (${err?.code === 'ENOENT' ? 'not found' : err?.message})`)
  }
  const lines = Buffer.from(bytes).toString('utf8').split(/\r?\n/)
  if (lines[0] !== KEY_HEADER || lines[1] !== '/base16/' || !/^[0-9a-fA-F]{64}$/.test(lines[2] ?? '')) {
    throw new InvalidConfigError(`meshKey: ${path} is not a mesh key (create one with: edge-mesh keygen --out ${path})`)
  }
  return bytes
}

/** The mDNS service tag of a private mesh: members only discover members. */
export function meshServiceTag (key: Uint8Array): string {
  return `edge-mesh-${createHash('sha256').update(key).digest('hex').slice(0, 16)}.local`
}
