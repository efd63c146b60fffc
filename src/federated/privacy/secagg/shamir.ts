/**
 * Shamir secret sharing over the prime field GF(2^521 - 1) (a Mersenne prime
 * larger than any 32-byte secret), with bigint arithmetic. A secret is the
 * constant term of a random polynomial of degree t-1; share i is its value at
 * x = i (i >= 1); any t shares give the secret back by Lagrange interpolation
 * at 0, fewer reveal nothing about it.
 */
import { InvalidMessageError } from '../../../errors.js'

/** The field modulus, 2^521 - 1. */
export const SHAMIR_PRIME = (1n << 521n) - 1n
/** Bytes of a field element on the wire (big-endian). */
export const SHARE_BYTES = 66

export interface Share { x: number, y: bigint }

function mod (a: bigint): bigint {
  const r = a % SHAMIR_PRIME
  return r < 0n ? r + SHAMIR_PRIME : r
}

function powMod (base: bigint, exp: bigint): bigint {
  let result = 1n
  let b = mod(base)
  let e = exp
  while (e > 0n) {
    if ((e & 1n) === 1n) result = (result * b) % SHAMIR_PRIME
    b = (b * b) % SHAMIR_PRIME
    e >>= 1n
  }
  return result
}

/** Big-endian bytes to a bigint. */
export function bytesToBigint (bytes: Uint8Array): bigint {
  let v = 0n
  for (const b of bytes) v = (v << 8n) | BigInt(b)
  return v
}

/** A bigint to `length` big-endian bytes. */
export function bigintToBytes (v: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length)
  let x = v
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(x & 0xFFn)
    x >>= 8n
  }
  if (x !== 0n) throw new InvalidMessageError(`value does not fit in ${length} bytes`)
  return out
}

/** A uniform field element from `random` (rejection sampling on 66 bytes masked to 521 bits). */
function randomElement (random: (n: number) => Uint8Array): bigint {
  for (;;) {
    const bytes = random(SHARE_BYTES)
    bytes[0] &= 0x01
    const v = bytesToBigint(bytes)
    if (v < SHAMIR_PRIME) return v
  }
}

/** Split `secret` (< p) into shares at `xs` (distinct, >= 1), any `threshold` of which recover it. */
export function split (secret: bigint, threshold: number, xs: readonly number[], random: (n: number) => Uint8Array): Share[] {
  if (!(secret >= 0n && secret < SHAMIR_PRIME)) throw new InvalidMessageError('secret out of the field')
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > xs.length) throw new InvalidMessageError(`threshold ${threshold} needs 1..${xs.length}`)
  if (new Set(xs).size !== xs.length || xs.some((x) => !Number.isInteger(x) || x < 1)) throw new InvalidMessageError('share points must be distinct integers >= 1')
  const coefficients = [secret, ...Array.from({ length: threshold - 1 }, () => randomElement(random))]
  return xs.map((x) => {
    let y = 0n
    const bx = BigInt(x)
    for (let k = coefficients.length - 1; k >= 0; k--) y = (y * bx + coefficients[k]) % SHAMIR_PRIME
    return { x, y }
  })
}

/** Recover the secret from at least `threshold` shares with distinct x (all given shares are used). */
export function combine (shares: readonly Share[]): bigint {
  if (shares.length === 0) throw new InvalidMessageError('no shares to combine')
  if (new Set(shares.map((s) => s.x)).size !== shares.length) throw new InvalidMessageError('duplicate share points')
  let secret = 0n
  for (const si of shares) {
    let num = 1n
    let den = 1n
    for (const sj of shares) {
      if (sj.x === si.x) continue
      num = (num * BigInt(sj.x)) % SHAMIR_PRIME
      den = mod(den * BigInt(sj.x - si.x))
    }
    secret = mod(secret + si.y * num % SHAMIR_PRIME * powMod(den, SHAMIR_PRIME - 2n))
  }
  return secret
}
