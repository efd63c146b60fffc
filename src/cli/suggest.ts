/** "Did you mean …?" for the CLI: the closest known word by edit distance. */

/**
 * Edit distance between `a` and `b` counting insertions, deletions,
 * substitutions and swaps of two neighbouring letters (`--jsno` is one edit
 * from `--json`): the optimal string alignment distance.
 */
export function editDistance (a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }
  return d[a.length][b.length]
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
