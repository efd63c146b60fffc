/**
 * The primitives of secure aggregation, all from the audited `@noble`
 * libraries (none written here): X25519 key agreement, HKDF-SHA256 to derive
 * keys from shared secrets, ChaCha20 as the PRG that expands a 32-byte seed
 * into a mask, ChaCha20-Poly1305 to encrypt key shares between clients.
 */
import { chacha20, chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { InvalidMessageError } from '../../../errors.js'
import { HOST_IS_LITTLE_ENDIAN } from '../../weights/codec-layout.js'

const encoder = new TextEncoder()
const MASK_INFO = encoder.encode('edge-mesh secagg mask v1')
const SHARE_INFO = encoder.encode('edge-mesh secagg share v1')

export interface KeyPair { secretKey: Uint8Array, publicKey: Uint8Array }

/** An X25519 key pair from 32 bytes of `random`. */
export function keyPair (random: (n: number) => Uint8Array): KeyPair {
  const secretKey = random(32)
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) }
}

/** The public key of an X25519 secret key. */
export function publicKeyOf (secretKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(secretKey)
}

function agree (secretKey: Uint8Array, peerPublic: Uint8Array, info: Uint8Array): Uint8Array {
  let shared: Uint8Array
  try {
    shared = x25519.getSharedSecret(secretKey, peerPublic)
  } catch {
    throw new InvalidMessageError('invalid X25519 public key')
  }
  return hkdf(sha256, shared, undefined, info, 32)
}

/** The pairwise mask seed of two clients (the same from both sides). */
export function maskSeed (secretKey: Uint8Array, peerPublic: Uint8Array): Uint8Array {
  return agree(secretKey, peerPublic, MASK_INFO)
}

/** The key two clients encrypt shares with (the same from both sides). */
export function shareKey (secretKey: Uint8Array, peerPublic: Uint8Array): Uint8Array {
  return agree(secretKey, peerPublic, SHARE_INFO)
}

/** `length` pseudo-random 32-bit words from a 32-byte seed (ChaCha20 keystream, zero nonce, read little-endian). */
export function expandMask (seed: Uint8Array, length: number): Uint32Array {
  const bytes = chacha20(seed, new Uint8Array(12), new Uint8Array(4 * length))
  if (HOST_IS_LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, length)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = new Uint32Array(length)
  for (let i = 0; i < length; i++) out[i] = view.getUint32(4 * i, true)
  return out
}

/** The nonce of the share ciphertext from client `from` to client `to` (each key encrypts at most one message per direction). */
function shareNonce (from: number, to: number): Uint8Array {
  const nonce = new Uint8Array(12)
  const view = new DataView(nonce.buffer)
  view.setUint32(0, from)
  view.setUint32(4, to)
  return nonce
}

/** Encrypt a share message from `from` to `to`. */
export function sealShare (key: Uint8Array, from: number, to: number, plaintext: Uint8Array): Uint8Array {
  return chacha20poly1305(key, shareNonce(from, to)).encrypt(plaintext)
}

/** Decrypt a share message; throws InvalidMessageError when it was not sealed by `from` for `to`. */
export function openShare (key: Uint8Array, from: number, to: number, ciphertext: Uint8Array): Uint8Array {
  try {
    return chacha20poly1305(key, shareNonce(from, to)).decrypt(ciphertext)
  } catch {
    throw new InvalidMessageError(`share from client ${from} to ${to} does not authenticate`)
  }
}

/** A source of random bytes. */
export type RandomSource = (n: number) => Uint8Array

/**
 * A seeded random source for tests and reproducible simulations only
 * (ChaCha20 keystream under SHA-256 of the seed): real clients use the
 * default, the platform CSPRNG.
 */
export function seededRandom (seed: number): RandomSource {
  const key = sha256(encoder.encode(`edge-mesh secagg seeded random ${seed >>> 0}`))
  let counter = 0
  return (n) => {
    const nonce = new Uint8Array(12)
    new DataView(nonce.buffer).setUint32(0, counter++)
    return chacha20(key, nonce, new Uint8Array(n))
  }
}
