/**
 * A small seeded PRNG shared by weight initialisation, data set ordering and
 * training shuffles, so every random choice in `src/model` is reproducible and
 * independent of the TF.js version and backend.
 */

/**
 * mulberry32: 32-bit state, returns floats in [0, 1). The generator is
 * specified here (not taken from a library) because `createMlp` content ids
 * and `loadMnist` order depend on its exact output.
 */
export function mulberry32 (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = mulberry32Advance(state)
    return mulberry32Output(state)
  }
}

/**
 * The two halves of one mulberry32 step, for generators that keep the state
 * themselves (the federated `Rng` checkpoints it): `state = advance(state)`,
 * then `output(state)` is the draw.
 */
export function mulberry32Advance (state: number): number {
  return (state + 0x6d2b79f5) >>> 0
}

/** The float in [0, 1) that mulberry32 yields for an advanced `state`. */
export function mulberry32Output (state: number): number {
  let t = state
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** Shuffle `values` in place with Fisher–Yates (from the last index down) driven by `random`. */
export function shuffleInPlace<T extends { length: number, [i: number]: unknown }> (values: T, random: () => number): T {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const tmp = values[i]
    values[i] = values[j]
    values[j] = tmp
  }
  return values
}

/** The indices `0..n-1` permuted by `shuffleInPlace`. */
export function permutation (n: number, random: () => number): Int32Array {
  const indices = new Int32Array(n)
  for (let i = 0; i < n; i++) indices[i] = i
  return shuffleInPlace(indices, random)
}
