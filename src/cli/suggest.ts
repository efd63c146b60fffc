/** "Did you mean …?" for the CLI: the closest known word by edit distance. */

/** Levenshtein distance between `a` and `b` (insertions, deletions, substitutions). */
export function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]
}

/**
 * The candidate closest to `word`, if it is close enough to be a likely typo:
 * at most a third of the longer word's letters differ (at least 1, at most 3).
 * Ties go to the first candidate.
 */
export function closest (word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate)
    if (distance < bestDistance) { best = candidate; bestDistance = distance }
  }
  const allowed = Math.min(3, Math.max(1, Math.floor(Math.max(word.length, best?.length ?? 0) / 3)))
  return bestDistance <= allowed ? best : undefined
}
