// Dense f64 linear algebra for the reader's fold-in: one small symmetric positive-definite
// system per visitor ((k+1) × (k+1) at most), so plain loops are fast enough.

/**
 * The Cholesky factor L (lower, row-major, A = L Lᵀ) of the n × n symmetric `a`, or null when
 * `a` is not positive definite.
 */
export function cholesky(a: Float64Array, n: number): Float64Array | null {
  const l = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j] as number
      for (let p = 0; p < j; p++) s -= (l[i * n + p] as number) * (l[j * n + p] as number)
      if (i === j) {
        if (!(s > 0)) return null
        l[i * n + i] = Math.sqrt(s)
      } else l[i * n + j] = s / (l[j * n + j] as number)
    }
  }
  return l
}

/** Solves L Lᵀ x = b in place. */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i] as number
    for (let p = 0; p < i; p++) s -= (l[i * n + p] as number) * (b[p] as number)
    b[i] = s / (l[i * n + i] as number)
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i] as number
    for (let p = i + 1; p < n; p++) s -= (l[p * n + i] as number) * (b[p] as number)
    b[i] = s / (l[i * n + i] as number)
  }
  return b
}

/** λ VᵀV + τ I of the n rows of `v` (k wide), k × k: an implicit fold-in's shared part. */
export function regularizedGram(v: Float32Array, n: number, k: number, lambda: number, tau: number): Float64Array {
  const g = new Float64Array(k * k)
  for (let r = 0; r < n; r++) {
    const o = r * k
    for (let i = 0; i < k; i++) {
      const x = v[o + i] as number
      if (x === 0) continue
      for (let j = i; j < k; j++) g[i * k + j] = (g[i * k + j] as number) + x * (v[o + j] as number)
    }
  }
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      const x = lambda * (g[i * k + j] as number) + (i === j ? tau : 0)
      g[i * k + j] = x
      g[j * k + i] = x
    }
  }
  return g
}
