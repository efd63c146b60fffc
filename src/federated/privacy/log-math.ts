/**
 * Log-space arithmetic for the RDP accountant: sums of terms that span
 * hundreds of orders of magnitude are kept as logarithms, and `logErfc`
 * stays accurate where `erfc` itself underflows.
 */

/** `log(exp(a) + exp(b))` without overflow; `-Infinity` is log(0). */
export function logAdd (a: number, b: number): number {
  const lo = Math.min(a, b)
  const hi = Math.max(a, b)
  if (lo === -Infinity) return hi
  return hi + Math.log1p(Math.exp(lo - hi))
}

/** `log(exp(a) - exp(b))` for `a >= b`; `-Infinity` when they are equal. */
export function logSub (a: number, b: number): number {
  if (b === -Infinity) return a
  if (a <= b) return -Infinity
  return b + Math.log(Math.expm1(a - b))
}

const LOG_SQRT_PI = 0.5 * Math.log(Math.PI)

/** erf(x) by its Maclaurin series; accurate to ~1e-14 for |x| <= 2.5. */
function erfSeries (x: number): number {
  const x2 = x * x
  let term = x
  let sum = x
  for (let n = 1; n < 200; n++) {
    term *= -x2 / n
    const next = term / (2 * n + 1)
    sum += next
    if (Math.abs(next) < 1e-17 * Math.abs(sum)) break
  }
  return (2 / Math.sqrt(Math.PI)) * sum
}

/**
 * log of the continued fraction in erfc(x) = exp(-x^2)/sqrt(pi) * K(x) for x > 2.5,
 * K(x) = 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated by modified Lentz.
 */
function logErfcFraction (x: number): number {
  const tiny = 1e-300
  let f = x
  let c = x
  let d = 0
  for (let n = 1; n < 500; n++) {
    const a = n / 2
    d = x + a * d
    d = Math.abs(d) < tiny ? tiny : d
    c = x + a / c
    c = Math.abs(c) < tiny ? tiny : c
    d = 1 / d
    const delta = c * d
    f *= delta
    if (Math.abs(delta - 1) < 1e-16) break
  }
  return -x * x - LOG_SQRT_PI - Math.log(f)
}

/** `log(erfc(x))`, accurate for large positive x where erfc underflows. */
export function logErfc (x: number): number {
  if (x > 2.5) return logErfcFraction(x)
  if (x >= -2.5) return Math.log(1 - erfSeries(x))
  return Math.log(2 - Math.exp(logErfcFraction(-x)))
}
