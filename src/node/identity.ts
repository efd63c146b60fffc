/**
 * A node's persistent identity: its private key lives in `<dataDir>/peer.key`
 * (libp2p's protobuf key encoding, file mode 0600), so a restarted node keeps
 * its peer id.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { writeFileAtomic } from '../atomic-write.js'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { InvalidConfigError } from '../errors.js'
import type { PrivateKey } from '@libp2p/interface'

export const KEY_FILE = 'peer.key'

export async function loadOrCreateIdentity (dataDir: string): Promise<PrivateKey> {
  const file = join(dataDir, KEY_FILE)
  let bytes: Uint8Array | undefined
  try {
    bytes = await readFile(file)
  } catch (err: any) {
    if (err?.code !== 'ENOENT') throw new InvalidConfigError(`dataDir: cannot read ${file}: ${err?.message}`)
  }
  if (bytes != null) {
    try {
      return privateKeyFromProtobuf(bytes)
    } catch {
      throw new InvalidConfigError(`dataDir: ${file} is not a libp2p private key; move it away to create a new identity`)
    }
  }
  const key = await generateKeyPair('Ed25519')
  try {
    await mkdir(dataDir, { recursive: true })
    await writeFileAtomic(file, privateKeyToProtobuf(key), { mode: 0o600 })
  } catch (err: any) {
    throw new InvalidConfigError(`dataDir: cannot write ${file}: ${err?.message}`)
  }
  return key
}
